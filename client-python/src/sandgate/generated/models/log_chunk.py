from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.log_chunk_stream import LogChunkStream, check_log_chunk_stream

T = TypeVar("T", bound="LogChunk")


@_attrs_define
class LogChunk:
    """
    Attributes:
        stream (LogChunkStream):
        data (str):
        offset (int): Where `data` starts in the log; the next chunk starts at offset + its UTF-8 length.
    """

    stream: LogChunkStream
    data: str
    offset: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        stream: str = self.stream

        data = self.data

        offset = self.offset

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "stream": stream,
                "data": data,
                "offset": offset,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        stream = check_log_chunk_stream(d.pop("stream"))

        data = d.pop("data")

        offset = d.pop("offset")

        log_chunk = cls(
            stream=stream,
            data=data,
            offset=offset,
        )

        log_chunk.additional_properties = d
        return log_chunk

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
