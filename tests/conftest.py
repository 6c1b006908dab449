"""Test-wide settings: a fixed feed secret, so no test writes one into the user's config."""

import os

os.environ.setdefault("HUBROTA_FEED_SECRET", "test-secret-0123456789abcdef")
