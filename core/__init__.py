"""Yishi's shared core: tenancy, accounts, authorization and the HTTP application."""
