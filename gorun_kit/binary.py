"""What is inside a built executable: which packages its machine code belongs
to, how much of it is the Go runtime, how it is linked, what debug data it kept.

Everything is read from the ELF file with pyelftools; the one program run is
GNU objdump, for :func:`disassemble` (pyelftools does not decode x86). Go's
symbol names carry their package (``runtime.mstart1``,
``net/http.(*Server).Serve``), so summing function sizes per package prefix
gives the bytes of machine code each package contributed. C code linked into a
cgo program is told apart by address: the Go linker brackets all Go text with
the symbols ``runtime.text`` and ``runtime.etext``, and whatever function lies
outside that range came from the C toolchain.
"""
from __future__ import annotations

import bisect
import dataclasses
import os
from pathlib import Path
from typing import Iterable, Sequence

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from .records import Record
from .toolchain import GoToolchain, ToolchainMissing, find_go

__all__ = [
    "NotAnELF", "Symbol", "PackageText", "LinkInfo", "BinaryReport", "RuntimeFunction",
    "RUNTIME_FUNCTIONS", "C_CODE", "GO_NO_PACKAGE",
    "package_of", "is_runtime_package", "read_symbols", "symbol_at", "link_info", "read_binary",
    "runtime_functions", "NmSymbol", "nm_symbols", "disassemble", "struct_layout", "struct_layouts", "field_at",
    "Section", "SECTION_GROUPS", "section_group", "sections",
]

C_CODE = "(C code)"
GO_NO_PACKAGE = "(Go assembly, no package prefix)"


class NotAnELF(ValueError):
    """The file given is missing or is not an ELF executable (the message says which)."""


@dataclasses.dataclass(frozen=True)
class Symbol(Record):
    """One symbol of the ELF symbol table."""

    name: str
    address: int
    size: int  # bytes; for functions without a recorded size, the gap to the next function
    kind: str  # "func", "object", or "marker" (a zero-size label such as runtime.text)
    package: str  # package path, C_CODE or GO_NO_PACKAGE
    is_global: bool


@dataclasses.dataclass(frozen=True)
class PackageText(Record):
    """The functions one package contributed to a binary's .text."""

    package: str
    functions: int
    text_bytes: int


@dataclasses.dataclass(frozen=True)
class LinkInfo(Record):
    """How the executable is linked and what debug data it carries."""

    dict_properties = ("stripped",)

    path: str
    file_bytes: int
    static: bool  # no PT_INTERP: the kernel starts it directly, no dynamic loader
    interpreter: str  # the PT_INTERP path ("" when static)
    needed: tuple[str, ...]  # DT_NEEDED shared libraries
    has_symtab: bool  # an ELF .symtab section is present (nm can list names)
    has_dwarf: bool  # .debug_info is present (debuggers can map code to source lines)
    text_section_bytes: int  # size of the .text section
    is_go: bool  # carries Go build information (.go.buildinfo or a Go build id note)

    @property
    def stripped(self) -> bool:
        return not self.has_symtab and not self.has_dwarf


@dataclasses.dataclass(frozen=True)
class BinaryReport(Record):
    """A binary's link facts and its text split by package (largest first)."""

    dict_properties = ("function_bytes", "runtime_bytes", "runtime_share")

    link: LinkInfo
    packages: tuple[PackageText, ...]

    @property
    def function_bytes(self) -> int:
        """Bytes of all functions found in .text (C and Go)."""
        return sum(p.text_bytes for p in self.packages)

    def bytes_of(self, package: str) -> int:
        return next((p.text_bytes for p in self.packages if p.package == package), 0)

    @property
    def runtime_bytes(self) -> int:
        """Bytes of package ``runtime`` plus the runtime-internal packages (``internal/runtime/...``).

        Counted by symbol name: runtime code the linker names after another
        package through ``//go:linkname`` (``runtime/debug.SetTraceback``,
        ``sync.runtime_Semacquire``) is counted under that package."""
        return sum(p.text_bytes for p in self.packages if is_runtime_package(p.package))

    @property
    def runtime_parts(self) -> tuple[PackageText, ...]:
        """The packages counted in :attr:`runtime_bytes`, largest first: ``runtime`` itself
        and the runtime-internal packages (``internal/runtime/maps``, ``internal/runtime/atomic``, ...)."""
        return tuple(p for p in self.packages if is_runtime_package(p.package))

    @property
    def runtime_share(self) -> float:
        """``runtime_bytes`` over all function bytes."""
        total = self.function_bytes
        return self.runtime_bytes / total if total else 0.0


@dataclasses.dataclass(frozen=True)
class RuntimeFunction(Record):
    """Where one runtime function sits in a binary, and which source file it came from."""

    name: str  # the name later chapters use ("mstart")
    symbol: str  # the ELF symbol ("runtime.mstart.abi0"), "" when absent
    address: int  # 0 when absent
    size: int
    language: str  # "assembly" (an .abi0 TEXT symbol) or "Go"
    source_file: str  # relative to GOROOT when it is inside it
    source_line: int
    source_from: str  # "DWARF line table" or "GOROOT search" (when the binary has no DWARF)


# The runtime functions chapters 3 and 4 talk about: (name, candidate symbols).
# An assembly function gets the ".abi0" suffix in the symbol table; mstart is
# assembly, mstart0/mstart1 are the Go functions it leads to.
RUNTIME_FUNCTIONS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("mstart", ("runtime.mstart.abi0", "runtime.mstart")),
    ("mstart0", ("runtime.mstart0",)),
    ("mstart1", ("runtime.mstart1",)),
    ("newosproc", ("runtime.newosproc",)),
    ("clone", ("runtime.clone.abi0", "runtime.clone")),
    ("settls", ("runtime.settls.abi0", "runtime.settls")),
    ("newobject", ("runtime.newobject",)),
)


# ---------------------------------------------------------------------------
# names

def package_of(name: str) -> str:
    """The package path in a Go symbol name, or GO_NO_PACKAGE when it has none.

    The package is everything up to the first dot after the last slash, looked
    for only before any ``[`` (generic instantiations put other packages'
    paths inside brackets: ``sync/atomic.(*Pointer[net/http.conn]).Load``).
    Linker-made names keep their prefix: ``type:.eq.main.T`` -> ``type:``,
    ``go:buildid`` -> ``go:``.
    """
    if not name:
        return GO_NO_PACKAGE
    for prefix in ("type:", "go:"):
        if name.startswith(prefix):
            return prefix
    head = name.split("[", 1)[0]
    slash = head.rfind("/")
    dot = head.find(".", slash + 1)
    if dot <= 0:
        return GO_NO_PACKAGE
    return head[:dot]


def is_runtime_package(package: str) -> bool:
    """True for package ``runtime`` and the runtime-internal packages (``internal/runtime/...``).

    False for the libraries under ``runtime/`` (``runtime/pprof``,
    ``runtime/trace``, ``runtime/metrics``, ``runtime/race``, ``runtime/debug``)
    and for ``runtime/cgo``, the cgo glue: they are packages a program imports,
    not the runtime itself.
    """
    return package == "runtime" or package.startswith("internal/runtime/")


# ---------------------------------------------------------------------------
# reading

def _open(path: str | os.PathLike):
    p = Path(path)
    if not p.is_file():
        raise NotAnELF(f"{os.fspath(path)!r} does not exist or is not a file (give the path of a built executable)")
    fh = open(p, "rb")
    try:
        return fh, ELFFile(fh)
    except ELFError as exc:
        fh.close()
        raise NotAnELF(f"{os.fspath(path)!r} is not an ELF file ({exc}); give a Linux executable") from None


def link_info(path: str | os.PathLike) -> LinkInfo:
    """Static or dynamic, which libraries, which symbol and debug sections."""
    fh, elf = _open(path)
    with fh:
        interp = ""
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_INTERP":
                interp = seg.get_interp_name()
        needed: list[str] = []
        dyn = elf.get_section_by_name(".dynamic")
        if dyn is not None:
            needed = [t.needed for t in dyn.iter_tags() if t.entry.d_tag == "DT_NEEDED"]
        text = elf.get_section_by_name(".text")
        names = {s.name for s in elf.iter_sections()}
        return LinkInfo(
            path=os.fspath(path), file_bytes=os.path.getsize(path), static=not interp, interpreter=interp,
            needed=tuple(needed), has_symtab=".symtab" in names,
            has_dwarf=".debug_info" in names or ".zdebug_info" in names,
            text_section_bytes=text["sh_size"] if text is not None else 0,
            is_go=".go.buildinfo" in names or ".note.go.buildid" in names,
        )


_MARKERS = {"runtime.text", "runtime.etext"}


def read_symbols(path: str | os.PathLike) -> tuple[Symbol, ...]:
    """The defined function and data symbols of ``path``'s .symtab, by address.

    Empty when the binary has no symbol table (``-ldflags=-s``, ``go run``).
    """
    fh, elf = _open(path)
    with fh:
        symtab = elf.get_section_by_name(".symtab")
        if symtab is None:
            return ()
        raw = []
        go_lo = go_hi = None
        for s in symtab.iter_symbols():
            if s.name == "runtime.text":
                go_lo = s["st_value"]
            elif s.name == "runtime.etext":
                go_hi = s["st_value"]
            typ = s["st_info"]["type"]
            if typ not in ("STT_FUNC", "STT_OBJECT") or s["st_shndx"] in ("SHN_UNDEF", "SHN_ABS"):
                continue
            if not s.name:
                continue
            raw.append((s["st_value"], s["st_size"], s.name, "func" if typ == "STT_FUNC" else "object",
                        s["st_info"]["bind"] != "STB_LOCAL"))
    raw.sort()
    func_addrs = sorted({a for a, _, _, k, _ in raw if k == "func"})
    sized = {a for a, size, _, k, _ in raw if k == "func" and size > 0}
    out = []
    for address, size, name, kind, is_global in raw:
        if name in _MARKERS:
            kind = "marker"  # linker-made bounds of the Go text, not functions
        elif kind == "func" and size == 0 and address in sized:
            kind = "marker"  # a label sharing its address with a real function
        if kind == "func" and size == 0:
            # Some assembly and C functions carry no size: take the gap to the next one.
            i = bisect.bisect_right(func_addrs, address)
            size = func_addrs[i] - address if i < len(func_addrs) else 0
        if kind == "func" and go_lo is not None and go_hi is not None and not go_lo <= address < go_hi:
            package = C_CODE
        else:
            package = package_of(name)
        out.append(Symbol(name, address, size, kind, package, is_global))
    return tuple(out)


@dataclasses.dataclass(frozen=True)
class NmSymbol(Record):
    """One line of ``nm``'s listing: address, type letter (``T`` global text,
    ``t`` local text, ``D``/``d`` data, ``B``/``b`` bss, ``R``/``r`` read-only
    data, ``U`` undefined, ``A`` absolute) and name."""

    address: int
    code: str
    name: str

    def __str__(self) -> str:
        undefined = self.code in ("U", "w", "v")
        return f"{'':16} {self.code} {self.name}" if undefined else f"{self.address:016x} {self.code} {self.name}"


def _nm_code(sym, sections) -> str:
    """The letter GNU nm prints for a symbol, from its binding and its section's flags."""
    from elftools.elf.constants import SH_FLAGS

    bind, shndx = sym["st_info"]["bind"], sym["st_shndx"]
    if bind == "STB_WEAK":  # V: a weak object, W: any other weak symbol; lower case when undefined
        code = "V" if sym["st_info"]["type"] == "STT_OBJECT" else "W"
        return code.lower() if shndx == "SHN_UNDEF" else code
    if shndx == "SHN_UNDEF":
        return "U"
    if shndx == "SHN_ABS":
        code = "A"
    elif isinstance(shndx, int) and shndx < len(sections):
        sec = sections[shndx]
        flags = sec["sh_flags"]
        if flags & SH_FLAGS.SHF_EXECINSTR:
            code = "T"
        elif sec["sh_type"] == "SHT_NOBITS":
            code = "B"
        elif flags & SH_FLAGS.SHF_WRITE:
            code = "D"
        else:
            code = "R"
    else:
        code = "?"
    return code if bind != "STB_LOCAL" else code.lower()


def nm_symbols(path: str | os.PathLike) -> tuple[NmSymbol, ...]:
    """What ``nm path`` lists, read from the ELF symbol table, sorted by name as nm sorts.

    Like GNU nm without options: every named symbol except section and file
    symbols, sorted by name (byte order, as nm does in the C locale). Empty
    when the binary has no symbol table (``go run``'s, ``-ldflags=-s``).
    ``tests/test_binary.py`` compares it with GNU nm line for line.
    """
    fh, elf = _open(path)
    with fh:
        symtab = elf.get_section_by_name(".symtab")
        if symtab is None:
            return ()
        sections = list(elf.iter_sections())
        out = [NmSymbol(s["st_value"], _nm_code(s, sections), s.name) for s in symtab.iter_symbols()
               if s.name and s["st_info"]["type"] not in ("STT_SECTION", "STT_FILE")]
    return tuple(sorted(out, key=lambda s: (s.name.encode(), s.address)))


def disassemble(path: str | os.PathLike, *, timeout: float = 300) -> tuple[str, ...]:
    """The instructions of ``path``'s executable sections, one line each, as GNU
    ``objdump -d --no-show-raw-insn`` prints them (AT&T syntax: ``mov
    %fs:0xfffffffffffffff8,%r14``); labels and blank lines are left out.

    Raises :class:`NotAnELF` for a file that is not an ELF executable and
    ToolchainMissing when objdump (binutils) is not installed.
    """
    import shutil
    import subprocess

    fh, _ = _open(path)
    fh.close()
    objdump = shutil.which("objdump")
    if objdump is None:
        raise ToolchainMissing("objdump", "looked for objdump on PATH; it comes with binutils: apt-get install -y binutils")
    done = subprocess.run([objdump, "-d", "--no-show-raw-insn", os.fspath(path)], capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)
    if done.returncode != 0:
        raise NotAnELF(f"objdump could not disassemble {os.fspath(path)!r}: {done.stderr.strip()}")
    # instruction lines are "  4011e0:\tmov ..."; everything else is a header or a label
    return tuple(line for line in done.stdout.splitlines() if line.startswith(" ") and ":\t" in line)


def symbol_at(symbols: Sequence[Symbol], address: int) -> Symbol | None:
    """The symbol whose [address, address+size) contains ``address`` (None if none does).

    ``symbols`` must be sorted by address, as :func:`read_symbols` returns them.
    """
    starts = [s.address for s in symbols]
    i = bisect.bisect_right(starts, address) - 1
    # Symbols can nest (an object inside a larger one); walk back a little.
    for j in range(i, max(i - 8, -1), -1):
        s = symbols[j]
        if s.address <= address < s.address + max(s.size, 1):
            return s
    return None


def _per_package(symbols: Iterable[Symbol]) -> tuple[PackageText, ...]:
    counts: dict[str, list[int]] = {}
    seen: set[int] = set()
    for s in symbols:
        # Aliases (two names, one address) must not count the bytes twice.
        if s.kind != "func" or s.address in seen:
            continue
        seen.add(s.address)
        entry = counts.setdefault(s.package, [0, 0])
        entry[0] += 1
        entry[1] += s.size
    rows = [PackageText(pkg, n, size) for pkg, (n, size) in counts.items()]
    rows.sort(key=lambda r: (-r.text_bytes, r.package))
    return tuple(rows)


def read_binary(path: str | os.PathLike) -> BinaryReport:
    """Link facts plus text bytes per package (empty packages when stripped)."""
    return BinaryReport(link=link_info(path), packages=_per_package(read_symbols(path)))


# ---------------------------------------------------------------------------
# sections

# What each ELF section of a Go executable holds, as groups a picture can colour:
# (group, test on the section name). First match wins; "other" takes the rest.
SECTION_GROUPS: tuple[tuple[str, object], ...] = (
    ("machine code", lambda n: n == ".text"),
    ("Go's function table (.gopclntab)", lambda n: n == ".gopclntab"),
    ("types and read-only data", lambda n: n in (".rodata", ".go.type", ".go.func", ".typelink", ".itablink")),
    ("data", lambda n: n in (".data", ".noptrdata", ".go.buildinfo", ".go.module", ".go.fipsinfo")
     or n.startswith(".data.")),
    ("DWARF debug info", lambda n: n.startswith((".debug_", ".zdebug_"))),
    ("ELF symbol table", lambda n: n in (".symtab", ".strtab")),
    ("zero-filled data (no file bytes)", lambda n: n in (".bss", ".noptrbss")),
)


def section_group(name: str) -> str:
    """The :data:`SECTION_GROUPS` group of a section name ("other" when none matches)."""
    return next((group for group, test in SECTION_GROUPS if test(name)), "other")


@dataclasses.dataclass(frozen=True)
class Section(Record):
    """One ELF section: its size, whether it takes bytes in the file, whether it is loaded."""

    name: str
    size: int  # sh_size in bytes
    in_file: bool  # False for SHT_NOBITS (.bss): memory only, no bytes in the file
    loaded: bool  # SHF_ALLOC: mapped into memory when the program runs
    group: str  # see SECTION_GROUPS


def sections(path: str | os.PathLike) -> tuple[Section, ...]:
    """The named sections of ``path`` in file order, each with its size and group.

    A stripped binary (``-ldflags=-s -w``, ``go run``) simply has fewer:
    no ``.symtab``/``.strtab`` and no ``.debug_*``.
    """
    fh, elf = _open(path)
    with fh:
        return tuple(Section(s.name, s["sh_size"], s["sh_type"] != "SHT_NOBITS", bool(s["sh_flags"] & 0x2),
                             section_group(s.name))
                     for s in elf.iter_sections() if s.name)


# ---------------------------------------------------------------------------
# runtime functions and their source files

def _dwarf_lines(path: str | os.PathLike, addresses: set[int]) -> dict[int, tuple[str, int]]:
    """{address: (source file, line)} for the first line-table row at each address.

    Only the compile units of the runtime package are read (Go writes one unit
    per package, plus one per assembly file), which keeps this under a second.
    """
    fh, elf = _open(path)
    found: dict[int, tuple[str, int]] = {}
    with fh:
        if not elf.has_dwarf_info():
            return found
        dwarf = elf.get_dwarf_info()
        for cu in dwarf.iter_CUs():
            name = cu.get_top_DIE().attributes.get("DW_AT_name")
            if name is None or name.value != b"runtime":
                continue
            program = dwarf.line_program_for_CU(cu)
            if program is None:
                continue
            files = program["file_entry"]
            dirs = program["include_directory"]
            base = 0 if program.header.version >= 5 else 1  # DWARF 5 numbers files from 0
            for entry in program.get_entries():
                st = entry.state
                if st is None or st.address not in addresses or st.address in found:
                    continue
                fe = files[st.file - base]
                d = dirs[fe.dir_index - (0 if program.header.version >= 5 else 1)] if fe.dir_index else b""
                found[st.address] = (os.path.join(d.decode(), fe.name.decode()), st.line)
            if len(found) == len(addresses):
                break
    return found


def _relative_to_goroot(file: str, tc: GoToolchain | None) -> str:
    if tc is not None:
        root = os.path.join(tc.goroot, "")
        if file.startswith(root):
            return file[len(root):]
    return file


def runtime_functions(path: str | os.PathLike, names: Sequence[str] | None = None, *,
                      toolchain: GoToolchain | None = None) -> tuple[RuntimeFunction, ...]:
    """Address, size and source file of each function of :data:`RUNTIME_FUNCTIONS` in ``path``.

    The source file comes from the binary's DWARF line table when it has one;
    otherwise (a stripped binary) it is looked up in the installed GOROOT with
    :mod:`gorun_kit.goroot`, and ``source_from`` says so. A function missing
    from the symbol table gets address 0 and an empty symbol.
    """
    from . import goroot

    wanted = [(n, c) for n, c in RUNTIME_FUNCTIONS if names is None or n in names]
    unknown = set(names or ()) - {n for n, _ in RUNTIME_FUNCTIONS}
    if unknown:
        raise ValueError(f"unknown runtime function(s) {sorted(unknown)}; known: {[n for n, _ in RUNTIME_FUNCTIONS]}")
    by_name = {s.name: s for s in read_symbols(path) if s.kind == "func"}
    try:
        tc = toolchain or find_go()
    except ToolchainMissing:  # no Go installed: keep absolute paths, skip GOROOT lookups
        tc = None
    hits = {}
    for name, candidates in wanted:
        hits[name] = next((by_name[c] for c in candidates if c in by_name), None)
    lines = _dwarf_lines(path, {s.address for s in hits.values() if s is not None})
    rows = []
    for name, candidates in wanted:
        sym = hits[name]
        asm = sym.name.endswith(".abi0") if sym else candidates[0].endswith(".abi0")
        file, line, origin = "", 0, ""
        if sym is not None and sym.address in lines:
            file, line = lines[sym.address]
            file, origin = _relative_to_goroot(file, tc), "DWARF line table"
        elif tc is not None:
            try:
                cit = goroot.find_asm(name, toolchain=tc) if asm else goroot.find_func(name, toolchain=tc)
                file, line, origin = cit.file, cit.line, "GOROOT search"
            except goroot.SourceNotFound:
                pass
        rows.append(RuntimeFunction(
            name=name, symbol=sym.name if sym else "", address=sym.address if sym else 0,
            size=sym.size if sym else 0, language="assembly" if asm else "Go",
            source_file=file, source_line=line, source_from=origin))
    return tuple(rows)


# ---------------------------------------------------------------------------
# struct layouts from DWARF

def struct_layout(path: str | os.PathLike, type_name: str) -> dict[str, int]:
    """{field: byte offset} of the Go struct ``type_name`` (e.g. ``runtime.m``) from DWARF.

    Lets a reader turn an address inside a runtime global (``runtime.sched``)
    or inside an M into a field name. Empty when the binary has no DWARF or
    no such type.
    """
    return struct_layouts(path, [type_name])[type_name]


def struct_layouts(path: str | os.PathLike, type_names: Sequence[str]) -> dict[str, dict[str, int]]:
    """:func:`struct_layout` of several types, in one pass over the DWARF."""
    wanted = {name.encode(): name for name in type_names}
    found: dict[str, dict[str, int]] = {name: {} for name in type_names}
    fh, elf = _open(path)
    with fh:
        if not elf.has_dwarf_info():
            return found
        packages = {name.split(b".", 1)[0] for name in wanted}
        for cu in elf.get_dwarf_info().iter_CUs():
            top = cu.get_top_DIE()
            name = top.attributes.get("DW_AT_name")
            if name is None or name.value not in packages:
                continue
            for die in top.iter_children():
                n = die.attributes.get("DW_AT_name")
                if die.tag != "DW_TAG_structure_type" or n is None or n.value not in wanted or found[wanted[n.value]]:
                    continue
                fields = found[wanted[n.value]]
                for member in die.iter_children():
                    loc = member.attributes.get("DW_AT_data_member_location")
                    mname = member.attributes.get("DW_AT_name")
                    if member.tag == "DW_TAG_member" and loc is not None and mname is not None:
                        fields[mname.value.decode()] = int(loc.value)
    return found


def field_at(layout: dict[str, int], offset: int) -> str:
    """The field of ``layout`` that starts at or most closely before ``offset``."""
    best = ""
    best_off = -1
    for name, off in layout.items():
        if best_off < off <= offset:
            best, best_off = name, off
    return best
