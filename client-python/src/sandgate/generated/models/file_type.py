from typing import Literal

FileType = Literal["directory", "file", "other", "symlink"]

FILE_TYPE_VALUES: set[FileType] = {
    "directory",
    "file",
    "other",
    "symlink",
}


def check_file_type(value: str) -> FileType:
    if value in FILE_TYPE_VALUES:
        return value
    raise TypeError(f"Unexpected value {value!r}. Expected one of {FILE_TYPE_VALUES!r}")
