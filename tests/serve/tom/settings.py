"""Settings of the throw-away TOM Toolkit site of the tests (run by TOM's own Python)."""

import os

from tom_common.default_settings import *  # noqa: F403

BASE_DIR = os.environ["TOM_SITE_DIR"]
SECRET_KEY = "test-only-not-secret"
DEBUG = True
ALLOWED_HOSTS: list[str] = []
INSTALLED_APPS = TOMTOOLKIT_INSTALLED_APPS  # noqa: F405
MIDDLEWARE = TOMTOOLKIT_MIDDLEWARE  # noqa: F405
ROOT_URLCONF = "tom_common.urls"
SITE_ID = 1
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {"context_processors": ["django.template.context_processors.request"]},
    }
]
DATABASES = {
    "default": {"ENGINE": "django.db.backends.sqlite3", "NAME": os.path.join(BASE_DIR, "tom.db")}
}
USE_TZ = True
BROKERS = {"LASAIR": {"api_key": os.environ["LASAIR_API_KEY"]}}
TOM_ALERT_CLASSES = ["tom_alerts.brokers.lasair.LasairBroker"]
