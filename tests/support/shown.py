"""What an element shows: pages write outside text through ``lib.ui.text.shown`` (Markdown
escapes and invisible breaks), AppTest reports the source; this undoes both."""
import re

from lib.ui.text import ZERO_WIDTH_SPACE


def shown(element) -> str:
    return re.sub(r"\\(.)", r"\1", element.value).replace(ZERO_WIDTH_SPACE, "")
