"""The one line a deployment puts in its plugins folder."""

from airshift.events.plugin import AirshiftEventsPlugin  # noqa: F401
