"""The classified archive fixture, shared with the classifier tests."""

from tests.classify.conftest import classified_url

__all__ = ["classified_url"]
