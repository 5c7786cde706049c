"""What anyone may read without signing in: published results, public meetings and photos, and open data."""
