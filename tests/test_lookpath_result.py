"""The LookPath result record's helpers: Go's strconv.Quote of a name (as the
error messages print it) and how GODEBUG's execerrdot setting is read.

The quoted strings below are what Go 1.27's strconv.Quote printed for the same input.
"""
from __future__ import annotations

import ast
import os

import pytest
from hypothesis import given, strategies as st

from gorun_kit import lookpath as lp
from gorun_kit.lookpath.result import LookPathResult, execerrdot_off, quote


@pytest.mark.parametrize("name, go", [
    ("\a\b\f\n\r\t\v", r'"\a\b\f\n\r\t\v"'),
    ("\x00\x1b\x1f\x7f", r'"\x00\x1b\x1f\x7f"'),
    ('say "X"\\', r'"say \"X\"\\"'),
    ("X ~!", '"X ~!"'),
    ("é\u200b\u00a0\u2028", '"é\\u200b\\u00a0\\u2028"'),
    ("\U000e0001\U0010ffff", r'"\U000e0001\U0010ffff"'),
    ("\uffff", r'"\uffff"'),  # the last character written with \u
    ("𝄞", '"𝄞"'),
])
def test_quote_matches_go(name, go):
    assert quote(name) == go


def test_quote_writes_a_byte_that_is_not_utf8_as_go_does():
    # Go quotes the string's bytes: an invalid byte becomes \xNN; os.fsdecode keeps it as a lone surrogate
    assert quote(os.fsdecode(b"t\xff\x80")) == r'"t\xff\x80"'


@given(st.text(st.characters(blacklist_categories=("Cs",))))
def test_quote_reads_back_as_the_same_string(name):
    quoted = quote(name)
    assert ast.literal_eval(quoted) == name
    assert "\n" not in quoted and "\r" not in quoted and all(ch.isprintable() for ch in quoted)


@given(st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7e, blacklist_characters='"\\')))
def test_quote_leaves_printable_ascii_alone(name):
    assert quote(name) == f'"{name}"'


def test_a_control_character_in_the_name_is_quoted_in_the_message():
    linux = lp.lookpath("t\r", goos="linux", path="/b", fs=lp.default_fs("linux"))
    assert linux.message == 'exec: "t\\r": executable file not found in $PATH'
    win = lp.lookpath("t\v", goos="windows", path="C:\\b", fs=lp.default_fs("windows"))
    assert win.message == 'exec: "t\\v": executable file not found in %PATH%'


@pytest.mark.parametrize("godebug, off", [
    ("execerrdot=0,execerrdot", True),  # a later item without "=" sets nothing
    ("execerrdot=0,execerrdot=1=x", False),  # the name ends at the first "="
    ("execerrdot=0=,x=1", False),
    ("execerrdot=0#a#b", True),  # the value ends at the first "#"
    ("execerrdot=1#0", False),
    ("execerrdot=0,", True),
    (",execerrdot=0", True),
    ("execerrdot=0 ", False),
    ("Execerrdot=0", False),
])
def test_execerrdot_off_parses_like_internal_godebug(godebug, off):
    assert execerrdot_off(godebug) is off


def test_result_views_depend_on_the_error_alone():
    found = LookPathResult("/b/t", None, "")
    assert found.ok and found.short() == "/b/t" and found.key() == ("/b/t", None)
    not_found_with_path = LookPathResult("/b/t", "EACCES", "stat /b/t: permission denied")
    assert not not_found_with_path.ok and not_found_with_path.short() == "/b/t (EACCES)"
    assert LookPathResult("", "ErrNotFound").short() == "ErrNotFound"
    # key ignores message and source, so a model and a real run compare equal
    assert LookPathResult("t", "ErrDot", "a", "modeled").key() == LookPathResult("t", "ErrDot", "b", "real linux").key()
