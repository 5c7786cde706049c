# The image the Helm chart runs: Yishi in a venv on python:3.11-slim, as the non-root user 10001.
# Build: docker build -t registry.example.org/yishi:0.1.0 .

FROM python:3.11-slim AS builder
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
# The source sits at /app here exactly as in the final stage: the editable install points the venv at it,
# so templates, manifests and migrations are read from the source tree whether or not they are package data.
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY plugins plugins
COPY tenants tenants
COPY migrations migrations
RUN /opt/venv/bin/pip install -e .

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    YISHI_ENV=production \
    YISHI_MEDIA_DIR=/var/lib/yishi/media
# WeasyPrint's pango and the Chinese faces of the printable documents (minutes, results, reports as PDF).
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 \
      fonts-arphic-uming fonts-arphic-ukai && rm -rf /var/lib/apt/lists/*
# A numeric user, so Kubernetes can check runAsNonRoot; it owns only the media directory.
RUN useradd --uid 10001 --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin yishi \
 && mkdir -p /var/lib/yishi/media && chown 10001:10001 /var/lib/yishi/media
COPY --from=builder /opt/venv /opt/venv
WORKDIR /app
COPY pyproject.toml README.md ./
COPY core core
COPY plugins plugins
COPY tenants tenants
COPY migrations migrations
# Compiled now, because the pods' root filesystem is read-only and cannot take .pyc files later.
RUN python -m compileall -q core plugins tenants migrations
USER 10001:10001
EXPOSE 8000
CMD ["yishi", "serve", "--host", "0.0.0.0", "--port", "8000"]
