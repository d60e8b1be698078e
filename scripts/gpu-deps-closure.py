#!/usr/bin/env python3
"""Shared-library closure for the GPU machine, small enough for the device tool's 64 MiB carry limit.

Used by scripts/pack-gpu-deps.sh:

    gpu-deps-closure.py LIBDIR OUTDIR SEED...

Debian's OpenImageIO and FFmpeg are built with every optional plugin (OpenCV, GDAL, GStreamer, DICOM,
OpenVDB, HEIF, RAW; 25 external codecs, network protocols, VA-API ...): their full closure is ~270
libraries, 360 MB, ~100 MB even under xz. facetrain uses none of those plugins. So the closure keeps
the libraries facetrain's code paths load (KEEP below, and the seeds), and replaces every other
library that a kept one names (DT_NEEDED) by a STUB: a small library with the same soname, the same
symbol versions and the dynamic symbols of the original that the kept libraries use, whose functions
print "facetrain GPU deps: <symbol> called, but <library> is a stub ...: returns 0" on stderr and
return 0 (a null pointer, an error code or a false flag to the plugin that asked; OpenImageIO registers
and starts its plugins' libraries at start-up, so aborting is not an option; scripts/gpu-smoke.sh
counts these lines in its log), C++ constructors and destructors return, version queries return "", and whose data
symbols are zero-filled with the original sizes (only the symbols the kept libraries reference). The loader is satisfied (the Debian libraries are
linked with BIND_NOW, so a missing symbol would fail at load time). Good for a test machine, not
for a studio install.

Writes, for kept libraries, OUTDIR/<file name> (a copy) and OUTDIR/<soname> linking to it; for stubs
OUTDIR/<soname>; and prints one line per library:
"keep NAME" or "stub NAME".
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

# Libraries the loader never needs from us (the GPU machine has them; the torch wheel needs them too).
BASE = re.compile(r"^(linux-vdso|ld-linux-x86-64|libc|libm|libdl|librt|libpthread|libresolv|libutil|libstdc\+\+|libgcc_s)\.so")
# What facetrain's own code paths use, beyond the seeds: image formats OpenImageIO reads and writes for
# it (EXR, TIFF, PNG, JPEG, DPX is built in), their codecs, OCIO's parsers, the BLAS dlib calls, TBB,
# FFmpeg's resampler and the H.264 encoder (movie outputs), the compression libraries these link.
KEEP = re.compile(
    r"^lib("
    r"OpenImageIO|OpenImageIO_Util|OpenEXR|OpenEXRCore|Imath|Iex|IlmThread|tiff|jpeg|png16|z|lzma|zstd|deflate|"
    r"jbig|Lerc|webp|webpdemux|webpmux|sharpyuv|gif|openjp2|freetype|brotlidec|brotlicommon|bz2|"
    r"OpenColorIO|yaml-cpp|expat|pystring|lcms2|"
    r"avcodec|avformat|avutil|swscale|swresample|soxr|x264|"
    r"dlib|blas|lapack|openblas|gfortran|quadmath|gomp|sqlite3|tbb|tbbmalloc|boost_thread|boost_filesystem|"
    r"boost_system|boost_atomic|fmt|crypto|ssl|pkgconf|"
    r"dcmimage|dcmimgle|dcmdata|oflog|ofstd|"  # DICOM: OpenImageIO configures it when it loads
    r"heif|raw_r|de265|"  # tried on files no other format reads (libheif starts its decoders)
    r"gme|openmpt"  # FFmpeg asks their probes about every input
    r")[-_.0-9]*\.so")


# C++ constructors and destructors (Itanium ABI: ...C1E..., ...D1Ev): a kept library may construct a
# static object of a stubbed one when it loads (OpenImageIO's DICOM plugin registers dcmtk's DiRegister),
# and destroy it at exit. Those stubs return; every other stubbed function aborts with its name.
CTOR_DTOR = re.compile(r"(C[123]|D[012])E")
# Version queries (libraw_version, heif_get_version, ...): OpenImageIO calls them when it catalogues its
# plugins at start-up; the stubs return an empty string.
VERSION_QUERY = re.compile(r"version", re.IGNORECASE)


def needed(path):
    out = subprocess.run(["readelf", "-d", "-W", path], capture_output=True, text=True, check=True).stdout
    return re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", out)


def soname(path):
    out = subprocess.run(["readelf", "-d", "-W", path], capture_output=True, text=True, check=True).stdout
    m = re.search(r"\(SONAME\)\s+Library soname: \[(.+?)\]", out)
    return m.group(1) if m else os.path.basename(path)


def dynamic_symbols(path):
    """(name, version or None, default_version, type, size) of every defined dynamic symbol."""
    out = subprocess.run(["readelf", "--dyn-syms", "-W", path], capture_output=True, text=True, check=True).stdout
    symbols = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) < 8 or not parts[0].endswith(":"):
            continue
        _, _, size, kind, bind, _, ndx, name = parts[:8]
        if ndx in ("UND", "ABS") or bind not in ("GLOBAL", "WEAK") or kind not in ("FUNC", "IFUNC", "OBJECT", "TLS"):
            continue
        version, default = None, True
        if "@@" in name:
            name, version = name.split("@@", 1)
        elif "@" in name:
            name, version = name.split("@", 1)
            default = False
        size = int(size, 0) if not size.startswith("0x") else int(size, 16)
        symbols.append((name, version, default, kind, size))
    return symbols


def undefined_symbols(path):
    out = subprocess.run(["readelf", "--dyn-syms", "-W", path], capture_output=True, text=True, check=True).stdout
    names = set()
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 8 and parts[0].endswith(":") and parts[6] == "UND":
            names.add(parts[7].split("@")[0])
    return names


def make_stub(real_path, out_path, name, referenced):
    # Only what the kept libraries reference (a stub of OpenVDB with all its symbols would be 50 MB).
    symbols = [s for s in dynamic_symbols(real_path) if s[0] in referenced]
    asm = [".text", ".Lmessage: .asciz \"%s\"" % name, ".Lcall: lea .Lmessage(%rip), %rdi", "  jmp facetrain_stub_called"]
    strings = [".section .rodata", ".Lempty: .asciz \"\""]
    versions = {}
    for i, (sym, version, default, kind, size) in enumerate(symbols):
        label = sym if (version is None or default) else "facetrain_stub_%d" % i
        if kind in ("FUNC", "IFUNC"):
            strings.append(".Lname%d: .asciz \"%s\"" % (i, sym))
            if CTOR_DTOR.search(sym):  # run by a kept library's static initialisers and atexit: harmless no-op
                asm += [".text", ".globl %s" % label, ".type %s,@function" % label, "%s: ret" % label]
            elif VERSION_QUERY.search(sym):  # asked when OpenImageIO lists its plugins: "" (or a number)
                asm += [".text", ".globl %s" % label, ".type %s,@function" % label,
                        "%s: lea .Lempty(%%rip), %%rax" % label, "  ret"]
            else:
                asm += [".text", ".globl %s" % label, ".type %s,@function" % label,
                        "%s: lea .Lname%d(%%rip), %%rsi" % (label, i), "  jmp .Lcall"]
        elif kind == "OBJECT":
            asm += [".bss", ".balign 16", ".globl %s" % label, ".type %s,@object" % label,
                    ".size %s,%d" % (label, max(size, 1)), "%s: .zero %d" % (label, max(size, 1))]
        else:  # TLS
            asm += [".section .tbss,\"awT\",@nobits", ".balign 16", ".globl %s" % label, ".type %s,@object" % label,
                    ".size %s,%d" % (label, max(size, 1)), "%s: .zero %d" % (label, max(size, 1))]
        if version is not None and not default:
            asm.append(".symver %s,%s@%s" % (label, sym, version))
            versions.setdefault(version, [])
        elif version is not None:
            versions.setdefault(version, []).append(sym)
        else:
            versions.setdefault(None, []).append(sym)
    c_source = (
        "#include <stdio.h>\n#include <stdlib.h>\n"
        "__attribute__((visibility(\"hidden\"))) long facetrain_stub_called(const char* lib, const char* symbol) {\n"
        "  fprintf(stderr, \"facetrain GPU deps: %s called, but %s is a stub (not packed by "
        "scripts/pack-gpu-deps.sh): returns 0\\n\", symbol, lib);\n"
        "  return 0;\n}\n")
    with tempfile.TemporaryDirectory() as work:
        with open(os.path.join(work, "stub.S"), "w") as f:
            f.write("\n".join(asm + strings) + "\n.section .note.GNU-stack,\"\",@progbits\n")
        with open(os.path.join(work, "called.c"), "w") as f:
            f.write(c_source)
        named = [v for v in versions if v is not None]
        script = []
        if named:
            unversioned = versions.get(None, [])
            for k, v in enumerate(named):
                syms = versions[v] + (unversioned if k == 0 else [])
                body = "".join(" %s;" % s for s in syms)
                script.append("%s { %s%s };" % (v, ("global:" + body) if syms else "", " local: *;" if k == len(named) - 1 else ""))
        else:
            script.append("{ global:%s local: *; };" % "".join(" %s;" % s for s in versions.get(None, [])))
        with open(os.path.join(work, "v.map"), "w") as f:
            f.write("\n".join(script) + "\n")
        subprocess.run(["gcc", "-shared", "-fPIC", "-o", out_path, os.path.join(work, "stub.S"), os.path.join(work, "called.c"),
                        "-Wl,-soname," + name, "-Wl,--version-script=" + os.path.join(work, "v.map"), "-Wl,-z,now"],
                       check=True)


def main():
    libdir, outdir, seeds = sys.argv[1], sys.argv[2], sys.argv[3:]
    os.makedirs(outdir, exist_ok=True)
    kept, stubbed, queue = set(), set(), list(seeds)
    while queue:
        name = queue.pop()
        if name in kept or BASE.match(name):
            continue
        path = os.path.join(libdir, name)
        if not os.path.exists(path):
            sys.exit("gpu-deps-closure: %s is not in %s" % (name, libdir))
        kept.add(name)
        stubbed.discard(name)
        # The real file under its own name (CMake configs name libfmt.so.9.1.0), the soname linking to it.
        real = os.path.realpath(path)
        shutil.copyfile(real, os.path.join(outdir, os.path.basename(real)))
        if os.path.basename(real) != name:
            link = os.path.join(outdir, name)
            if os.path.lexists(link):
                os.remove(link)
            os.symlink(os.path.basename(real), link)
        for dep in needed(path):
            if dep in kept or BASE.match(dep):
                continue
            if KEEP.match(dep):
                queue.append(dep)
            else:
                stubbed.add(dep)
    referenced = set()
    for name in kept:
        referenced |= undefined_symbols(os.path.join(libdir, name))
    for name in sorted(stubbed - kept):
        make_stub(os.path.realpath(os.path.join(libdir, name)), os.path.join(outdir, name), name, referenced)
    for name in sorted(kept):
        print("keep", name)
    for name in sorted(stubbed - kept):
        print("stub", name)


if __name__ == "__main__":
    main()
