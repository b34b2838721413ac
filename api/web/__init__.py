"""Server-rendered pages (Jinja2): buyer center, back office, finance, dev mail."""
