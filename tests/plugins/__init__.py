"""pytest plugins shared by every test tier (registered in tests/conftest.py)."""
