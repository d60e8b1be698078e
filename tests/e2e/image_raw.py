"""Raw readers for the e2e tests: the bytes of a file as its format defines them, with nothing
converted on the way (no alpha association, no channel reordering), to check what facetrain wrote
independently of OpenImageIO, which facetrain writes with.

read_exr(path): an uncompressed (compression none) scanline OpenEXR file -> Exr with .width, .height,
  .channels {name: pixel type "half"|"float"|"uint"}, .attributes {name: (type, raw bytes)},
  .string(name), and .plane(name) -> list of floats, row by row.
tiff_tag(path, tag): the values of one tag of a TIFF's first directory (e.g. 338, ExtraSamples).
"""
import struct

_PIXEL_TYPES = {0: ("uint", "I", 4), 1: ("half", "e", 2), 2: ("float", "f", 4)}


class Exr:
    def __init__(self, path):
        data = open(path, "rb").read()
        if data[:4] != b"\x76\x2f\x31\x01":
            raise ValueError("%s: not an OpenEXR file" % path)
        flags = struct.unpack_from("<I", data, 4)[0]
        if flags & 0x1a00:  # tiled, deep, multi-part
            raise ValueError("%s: only single-part scanline files are read (flags %#x)" % (path, flags))
        pos = 8
        self.attributes = {}
        while data[pos] != 0:
            end = data.index(b"\0", pos)
            name = data[pos:end].decode()
            pos = end + 1
            end = data.index(b"\0", pos)
            kind = data[pos:end].decode()
            pos = end + 1
            size = struct.unpack_from("<i", data, pos)[0]
            pos += 4
            self.attributes[name] = (kind, data[pos:pos + size])
            pos += size
        pos += 1
        if self.attributes["compression"][1] != b"\0":
            raise ValueError("%s: compressed (write it with --exr-compression none)" % path)
        xmin, ymin, xmax, ymax = struct.unpack("<4i", self.attributes["dataWindow"][1])
        self.width, self.height = xmax - xmin + 1, ymax - ymin + 1
        self.channels = {}
        order = []
        chlist = self.attributes["channels"][1]
        at = 0
        while chlist[at] != 0:
            end = chlist.index(b"\0", at)
            name = chlist[at:end].decode()
            pixel_type, _, xs, ys = struct.unpack_from("<iB3xii", chlist, end + 1)
            if (xs, ys) != (1, 1):
                raise ValueError("%s: subsampled channel %s" % (path, name))
            self.channels[name] = _PIXEL_TYPES[pixel_type][0]
            order.append((name, _PIXEL_TYPES[pixel_type]))
            at = end + 1 + 16
        self._planes = {name: [] for name, _ in order}
        offsets = struct.unpack_from("<%dQ" % self.height, data, pos)
        for offset in offsets:
            y, size = struct.unpack_from("<ii", data, offset)
            at = offset + 8
            for name, (_, code, width_bytes) in order:
                self._planes[name].extend(struct.unpack_from("<%d%s" % (self.width, code), data, at))
                at += self.width * width_bytes
            if at != offset + 8 + size:
                raise ValueError("%s: scanline %d holds %d bytes, its channels %d" % (path, y, size, at - offset - 8))

    def string(self, name):
        kind, raw = self.attributes[name]
        if kind != "string":
            raise ValueError("attribute %s is a %s" % (name, kind))
        return raw.decode()

    def plane(self, name):
        return self._planes[name]


def read_exr(path):
    return Exr(path)


def tiff_tag(path, tag):
    data = open(path, "rb").read()
    endian = {b"II": "<", b"MM": ">"}[data[:2]]
    if struct.unpack_from(endian + "H", data, 2)[0] != 42:
        raise ValueError("%s: not a classic TIFF" % path)
    ifd = struct.unpack_from(endian + "I", data, 4)[0]
    count = struct.unpack_from(endian + "H", data, ifd)[0]
    sizes = {1: ("B", 1), 3: ("H", 2), 4: ("I", 4)}
    for i in range(count):
        entry_tag, kind, n, value = struct.unpack_from(endian + "HHI4s", data, ifd + 2 + 12 * i)
        if entry_tag != tag:
            continue
        code, width = sizes[kind]
        raw = value if n * width <= 4 else data[struct.unpack(endian + "I", value)[0]:][:n * width]
        return list(struct.unpack(endian + "%d%s" % (n, code), raw[:n * width]))
    return None
