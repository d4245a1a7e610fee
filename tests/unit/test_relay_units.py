"""Pieces of the relay between nodes: node credentials, the wire format, the program switch."""

from __future__ import annotations

import asyncio

import pytest
from aiortc.mediastreams import MediaStreamError
from av.packet import Packet

from parley.core.homing import NodeAuthError, check_node_credential, node_credential
from parley.media.audio import TIME_BASE
from parley.media.program import ProgramFeed, ProgramTrack
from parley.media.program_switch import ProgramSwitch
from parley.media.relay import decode_packet, encode_packet

SECRET = "shared by the deployment"


def test_a_node_credential_names_its_node_for_its_purpose_until_it_expires() -> None:
    made = node_credential(SECRET, "node-a", "relay:s1", now=1000, ttl=60)
    assert check_node_credential(SECRET, made, "relay:s1", now=1059) == "node-a"
    for secret, purpose, now in (
        ("another deployment", "relay:s1", 1000),  # not our secret
        (SECRET, "relay:s2", 1000),  # made for another space
        (SECRET, "relay:s1", 1061),  # expired
    ):
        with pytest.raises(NodeAuthError):
            check_node_credential(secret, made, purpose, now=now)
    with pytest.raises(NodeAuthError):
        check_node_credential(SECRET, made.replace("node-a", "node-b"), "relay:s1", now=1000)
    with pytest.raises(NodeAuthError):
        check_node_credential(SECRET, "not a credential", "relay:s1", now=1000)


def test_a_relayed_packet_arrives_as_it_was_encoded() -> None:
    packet = _packet(b"\xfc\x01opus", pts=123_456_789)
    again = decode_packet(encode_packet(packet))
    assert bytes(again) == bytes(packet)
    assert (again.pts, again.time_base) == (123_456_789, TIME_BASE)
    with pytest.raises(ValueError):
        decode_packet(b"short")


async def test_listeners_move_to_a_new_source_with_timestamps_that_keep_going_up() -> None:
    relay, mixer = ProgramFeed(), ProgramFeed()
    switch = ProgramSwitch()
    track = switch.track()
    switch.use(lambda: ProgramTrack(relay, lambda _t: None))
    reading = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    relay.publish(_packet(b"r1", pts=9_600_000))
    first = await reading
    assert isinstance(first, Packet)
    assert (bytes(first), first.pts) == (b"r1", 9_600_000)

    # The home died: its relay ends, and this node's own mixer, whose clock started at 960,
    # becomes the source.
    reading = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    relay.close()
    await asyncio.sleep(0)
    switch.use(lambda: ProgramTrack(mixer, lambda _t: None))
    await asyncio.sleep(0)
    mixer.publish(_packet(b"m1", pts=960))
    second = await reading
    assert isinstance(second, Packet)
    assert (bytes(second), second.pts) == (b"m1", 9_600_960)
    reading = asyncio.ensure_future(track.recv())
    await asyncio.sleep(0)
    mixer.publish(_packet(b"m2", pts=1920))
    assert (await reading).pts == 9_601_920

    switch.close()
    mixer.close()
    with pytest.raises(MediaStreamError):
        await track.recv()


def _packet(payload: bytes, *, pts: int) -> Packet:  # type: ignore[type-arg]
    packet = Packet(payload)
    packet.pts = pts
    packet.time_base = TIME_BASE
    return packet
