from typing import Literal

CompatDownloadRequestEncoding = Literal["base64", "utf-8"]

COMPAT_DOWNLOAD_REQUEST_ENCODING_VALUES: set[CompatDownloadRequestEncoding] = {
    "base64",
    "utf-8",
}


def check_compat_download_request_encoding(value: str) -> CompatDownloadRequestEncoding:
    if value in COMPAT_DOWNLOAD_REQUEST_ENCODING_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {COMPAT_DOWNLOAD_REQUEST_ENCODING_VALUES!r}")
