from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.process_status import ProcessStatus, check_process_status

if TYPE_CHECKING:
    from ..models.log_chunk import LogChunk


T = TypeVar("T", bound="ProcessLogs")


@_attrs_define
class ProcessLogs:
    """
    Attributes:
        process_id (str): Process id, unique within its sandbox. Example: p-3k2j9x7w.
        status (ProcessStatus): `running`; `exited`: ended by itself (see exitCode); `killed`: ended by a kill request
            or its sandbox's deletion; `lost`: the host restarted while it ran, so how it ended is unknown.
        chunks (list[LogChunk]):
        stdout (str): The stdout chunks joined.
        stderr (str): The stderr chunks joined.
        first_offset (int): The oldest offset still kept; older output was dropped past the log limit.
        next_offset (int): Pass as `offset` to continue after these chunks.
    """

    process_id: str
    status: ProcessStatus
    chunks: list[LogChunk]
    stdout: str
    stderr: str
    first_offset: int
    next_offset: int
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        process_id = self.process_id

        status: str = self.status

        chunks = []
        for chunks_item_data in self.chunks:
            chunks_item = chunks_item_data.to_dict()
            chunks.append(chunks_item)

        stdout = self.stdout

        stderr = self.stderr

        first_offset = self.first_offset

        next_offset = self.next_offset

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "processId": process_id,
                "status": status,
                "chunks": chunks,
                "stdout": stdout,
                "stderr": stderr,
                "firstOffset": first_offset,
                "nextOffset": next_offset,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.log_chunk import LogChunk

        d = dict(src_dict)
        process_id = d.pop("processId")

        status = check_process_status(d.pop("status"))

        chunks = []
        _chunks = d.pop("chunks")
        for chunks_item_data in _chunks:
            chunks_item = LogChunk.from_dict(chunks_item_data)

            chunks.append(chunks_item)

        stdout = d.pop("stdout")

        stderr = d.pop("stderr")

        first_offset = d.pop("firstOffset")

        next_offset = d.pop("nextOffset")

        process_logs = cls(
            process_id=process_id,
            status=status,
            chunks=chunks,
            stdout=stdout,
            stderr=stderr,
            first_offset=first_offset,
            next_offset=next_offset,
        )

        process_logs.additional_properties = d
        return process_logs

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
