from tests.consume.broker import names  # noqa: F401 (the fixture)
