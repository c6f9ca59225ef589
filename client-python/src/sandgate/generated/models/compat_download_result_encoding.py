from typing import Literal

CompatDownloadResultEncoding = Literal["base64", "utf-8"]

COMPAT_DOWNLOAD_RESULT_ENCODING_VALUES: set[CompatDownloadResultEncoding] = {
    "base64",
    "utf-8",
}


def check_compat_download_result_encoding(value: str) -> CompatDownloadResultEncoding:
    if value in COMPAT_DOWNLOAD_RESULT_ENCODING_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {COMPAT_DOWNLOAD_RESULT_ENCODING_VALUES!r}")
