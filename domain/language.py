"""The languages Muster writes its messages in.

Every text a person receives (alerts, updates, requests for help, sign-in codes, voice
calls) is written in their language; a text without a translation is a defect, so each
catalogue is a mapping with one entry per member of `Language`.
"""

from enum import StrEnum


class Language(StrEnum):
    """A person's language: English unless set otherwise."""

    EN = "en"
    ES = "es"
