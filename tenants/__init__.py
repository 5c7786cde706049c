"""Declarative tenant manifests, applied with `yishi tenants apply FILE`; `demo.yaml` is the article's tree."""

from pathlib import Path

DEMO_MANIFEST = Path(__file__).with_name("demo.yaml")
