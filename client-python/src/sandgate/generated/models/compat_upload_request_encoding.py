from typing import Literal

CompatUploadRequestEncoding = Literal["base64", "utf-8"]

COMPAT_UPLOAD_REQUEST_ENCODING_VALUES: set[CompatUploadRequestEncoding] = {
    "base64",
    "utf-8",
}


def check_compat_upload_request_encoding(value: str) -> CompatUploadRequestEncoding:
    if value in COMPAT_UPLOAD_REQUEST_ENCODING_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {COMPAT_UPLOAD_REQUEST_ENCODING_VALUES!r}")
