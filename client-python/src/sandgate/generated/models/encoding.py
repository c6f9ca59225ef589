from typing import Literal

Encoding = Literal["base64", "utf-8"]

ENCODING_VALUES: set[Encoding] = {
    "base64",
    "utf-8",
}


def check_encoding(value: str) -> Encoding:
    if value in ENCODING_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {ENCODING_VALUES!r}")
