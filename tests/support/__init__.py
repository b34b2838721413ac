"""What the tests and the bench share: sample data, the signed-in HTTP client, the guide's
JD order walked over HTTP, scratch databases and the stack started as processes.

Nothing here is a test or a fixture; conftest.py files turn these into fixtures.
"""
