"""Searches and shopper events, stored through SQLAlchemy (SQLite by default, PostgreSQL by URL)."""
