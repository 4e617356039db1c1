"""What an alert shows: pages escape Markdown in alert text, AppTest reports the source."""
import re


def shown(element) -> str:
    return re.sub(r"\\(.)", r"\1", element.value)
