#!/usr/bin/env python3
# check-fidelity.py: does evault's probe read a media file the way the
# reference tools do?  For each metadata document that `evault probe
# --json` printed, it compares the facts with what ffprobe (FFmpeg 5.1)
# and exiftool (-n: numeric values) said about the same file, stored in
# EXPECTED/<relpath>.ffprobe.json and EXPECTED/<relpath>.exiftool-n.json:
#
#   container     facts.container            ffprobe format.format_name
#   duration      facts.duration (1 ms)      ffprobe format.duration
#   streams       len(container.streams)     ffprobe: number of streams
#   codecs        facts.streams              ffprobe streams[].codec_name
#   width/height  facts.width/height         ffprobe: first video stream
#                                            that is not cover art (else
#                                            exiftool ImageWidth/Height,
#                                            e.g. HEIF, which FFmpeg 5.1
#                                            cannot read: libheif's ispe)
#   make/model    facts.make/model           exiftool Make/Model (trailing
#                                            spaces and NULs ignored)
#   capture_time  facts.capture_time         exiftool DateTimeOriginal, else
#                 (first 19 characters,      QuickTime CreationDate, else
#                 as YYYY:MM:DD HH:MM:SS)    ffprobe's creation tag, else
#                                            exiftool CreateDate, ModifyDate
#                                            (the order of formats.md 18)
#   location      facts.location lat/lon     exiftool GPSPosition (signed
#                 (1e-6 degrees)             decimal degrees)
#   orientation   facts.orientation          exiftool Orientation (1-8)
#   rotation      facts.rotation             videos: ffprobe's display
#                                            matrix; HEIF: exiftool Rotation
#
# Rotation signs: ffprobe 5.1 prints av_display_rotation_get() of the
# display matrix, degrees counterclockwise, so "rotation": -90 is a picture
# to be turned 90 degrees clockwise for display; our fact is the clockwise
# angle, (-r) mod 360, so -90 there is 90 here (exiftool's QuickTime
# Rotation agrees: 90).
#
# A field is checked when either side has a value.  A difference is a
# MISMATCH unless an entry of EXCEPTIONS below explains it: each entry
# names the field, a test that the difference is the documented one (not
# merely any difference in that field) and why it is not an error.
#
#   check-fidelity.py CORPUS EXPECTED [PROBE_JSON]
#
# PROBE_JSON (default: standard input) is the array `evault probe --json
# FILE...` prints, each document with its "path" (under CORPUS).  Prints
# one line per file and field ("ok", "MISMATCH", "exception: why"), then a
# summary.  Exit status: 0 every difference explained, 1 a mismatch, 2 bad
# usage or input.
import json
import os
import sys

FIELDS = ("container", "duration", "streams", "codecs", "width", "height",
          "make", "model", "capture_time", "location", "orientation",
          "rotation")

# FFmpeg's readers of single images (image2 and the *_pipe demuxers): not
# containers.  Each image codec it reports, and our name for the format.
IMAGE_CODECS = {"mjpeg": "jpeg", "png": "png", "webp": "webp",
                "tiff": "tiff", "gif": "gif", "bmp": "bmp"}

# Messages the parent records when the probe itself failed (formats.md
# section 19): a crash, a hang, a sandbox kill or a broken answer.
PROBE_FAILURES = ("probe killed", "probe timed out", "probe stopped by its sandbox",
                  "the probe broke its protocol", "the probe read other bytes",
                  "the probe's answer is not JSON")

DURATION_TOLERANCE = 0.001  # seconds
DEGREE_TOLERANCE = 1e-6


def is_image_reader(fmt):
    return fmt == "image2" or (fmt or "").endswith("_pipe")


class File:
    """One corpus file: our document and the reference tools' answers."""

    def __init__(self, rel, path, doc, ff, ex):
        self.rel, self.path, self.doc = rel, path, doc
        self.facts = doc.get("facts") or {}
        self.ff, self.ex = ff, ex
        self.fmt = (ff.get("format") or {}).get("format_name")
        self.ff_ok = "format" in ff
        self.image = doc.get("image")  # our image parser read it
        self.still = self.image is not None
        self._raw = None

    def raw(self):
        if self._raw is None:
            with open(self.path, "rb") as f:
                self._raw = f.read()
        return self._raw

    def ff_streams(self):
        return self.ff.get("streams") or []

    def ff_video(self):
        """ffprobe's first video stream that is not cover art."""
        for s in self.ff_streams():
            if s.get("codec_type") != "video":
                continue
            if (s.get("disposition") or {}).get("attached_pic"):
                continue
            return s
        return None

    def ff_format_tags(self):
        """ffprobe's container tags, keys in lower case."""
        tags = (self.ff.get("format") or {}).get("tags") or {}
        return {k.lower(): v for k, v in tags.items()}

    def ff_tags(self):
        """ffprobe's container and stream tags, keys in lower case."""
        tags = {}
        for s in self.ff_streams():
            for k, v in (s.get("tags") or {}).items():
                tags.setdefault(k.lower(), v)
        for k, v in ((self.ff.get("format") or {}).get("tags") or {}).items():
            tags[k.lower()] = v
        return tags

    def av_read(self):
        """libavformat is the source: a container, audio or video file."""
        return not self.still and (self.ff_ok or "container" in self.doc)

    def av_error(self):
        for e in self.doc.get("errors") or []:
            if e.startswith("libavformat:"):
                return e
        return None

    def is_media(self):
        t = self.doc.get("type") or ""
        return t.startswith(("image/", "video/", "audio/"))

    def exif_has(self, ifd, tag):
        ifds = (self.doc.get("exif") or {}).get("ifds") or {}
        return any(e.get("tag") == tag for e in ifds.get(ifd) or [])

    def source(self, fact):
        return (self.facts.get("sources") or {}).get(fact)


# --- normalising ------------------------------------------------------------

def time19(s):
    """The first 19 characters of a date-time as YYYY:MM:DD HH:MM:SS."""
    if not isinstance(s, str) or len(s) < 19:
        return None
    c = list(s[:19])
    for i in (4, 7):
        if c[i] in "-/":
            c[i] = ":"
    if c[10] == "T":
        c[10] = " "
    return "".join(c)


def text(v):
    if v is None:
        return None
    return str(v).rstrip(" \0")


def ex_location(ex):
    """exiftool's signed latitude and longitude, or None."""
    pos = ex.get("GPSPosition")
    if isinstance(pos, str) and len(pos.split()) >= 2:
        try:
            lat, lon = (float(x) for x in pos.split()[:2])
            return lat, lon
        except ValueError:
            pass
    lat, lon = ex.get("GPSLatitude"), ex.get("GPSLongitude")
    if not isinstance(lat, (int, float)) or not isinstance(lon, (int, float)):
        return None
    # -n gives the EXIF values unsigned when no composite tag signed them.
    if ex.get("GPSLatitudeRef") == "S" and lat > 0:
        lat = -lat
    if ex.get("GPSLongitudeRef") == "W" and lon > 0:
        lon = -lon
    return float(lat), float(lon)


def ff_rotation(stream):
    for sd in stream.get("side_data_list") or []:
        if sd.get("side_data_type") == "Display Matrix" and "rotation" in sd:
            return int(round(-float(sd["rotation"]))) % 360
    return 0


# --- the comparisons --------------------------------------------------------
# Each returns None (nothing to compare: neither side has a value) or
# (ours, expected, where the expected value comes from, equal).

def check_container(f):
    ours = f.facts.get("container")
    if ours is None and f.fmt is None:
        return None
    return ours, f.fmt, "ffprobe format_name", ours == f.fmt


def check_duration(f):
    ours = f.facts.get("duration")
    d = (f.ff.get("format") or {}).get("duration")
    exp = float(d) if d is not None else None
    if ours is None and exp is None:
        return None
    ok = ours is not None and exp is not None and abs(ours - exp) <= DURATION_TOLERANCE
    return ours, exp, "ffprobe format.duration", ok


def our_streams(f):
    c = f.doc.get("container")
    return c.get("streams") if isinstance(c, dict) else None


def check_streams(f):
    s = our_streams(f)
    ours = len(s) if s is not None else None
    exp = len(f.ff_streams()) if f.ff_ok else None
    if ours is None and exp is None:
        return None
    return ours, exp, "ffprobe streams", ours == exp


def check_codecs(f):
    ours = f.facts.get("streams")
    s = our_streams(f)
    if ours is not None and s is not None:
        # The fact must say what the container member says.
        listed = [x.get("codec") or "none" for x in s]
        if listed != ours:
            return ours, listed, "our own container.streams", False
    exp = [s.get("codec_name") or "none" for s in f.ff_streams()] if f.ff_ok else None
    if ours is None and exp is None:
        return None
    return ours, exp, "ffprobe codec_name", ours == exp


def size_check(f, fact, ffkey, exkey):
    ours = f.facts.get(fact)
    v = f.ff_video()
    if v is not None and (v.get(ffkey) or 0) > 0:
        exp, where = v[ffkey], "ffprobe stream %s %s" % (v.get("index"), ffkey)
    elif isinstance(f.ex.get(exkey), int) and f.ex[exkey] > 0 and \
            not (f.ff_ok and not f.still):
        exp, where = f.ex[exkey], "exiftool " + exkey
    else:
        exp, where = None, "ffprobe/exiftool"
    if ours is None and exp is None:
        return None
    return ours, exp, where, ours == exp


def check_width(f):
    return size_check(f, "width", "width", "ImageWidth")


def check_height(f):
    return size_check(f, "height", "height", "ImageHeight")


def text_check(f, fact, key):
    ours, exp = f.facts.get(fact), f.ex.get(key)
    if ours is None and exp is None:
        return None
    return ours, exp, "exiftool " + key, text(ours) == text(exp) and ours is not None


def check_make(f):
    return text_check(f, "make", "Make")


def check_model(f):
    return text_check(f, "model", "Model")


def time_refs(f):
    """Where the capture time is expected from, most specific first."""
    refs = [("exiftool DateTimeOriginal", f.ex.get("DateTimeOriginal")),
            ("exiftool CreationDate", f.ex.get("CreationDate"))]
    tags = f.ff_format_tags()
    refs.append(("ffprobe com.apple.quicktime.creationdate",
                 tags.get("com.apple.quicktime.creationdate")))
    refs.append(("ffprobe creation_time", tags.get("creation_time")))
    refs.append(("exiftool CreateDate", f.ex.get("CreateDate")))
    refs.append(("exiftool ModifyDate", f.ex.get("ModifyDate")))
    return [(w, v) for w, v in refs
            if time19(v) is not None and not time19(v).startswith("0000")]


def check_capture_time(f):
    ours = f.facts.get("capture_time")
    refs = time_refs(f)
    if ours is None and not refs:
        return None
    where, exp = refs[0] if refs else ("exiftool/ffprobe", None)
    return ours, exp, where, time19(ours) is not None and time19(ours) == time19(exp)


def check_location(f):
    loc = f.facts.get("location")
    ours = (loc.get("lat"), loc.get("lon")) if isinstance(loc, dict) else None
    exp = ex_location(f.ex)
    if ours is None and exp is None:
        return None
    ok = ours is not None and exp is not None and all(
        isinstance(a, (int, float)) and abs(a - b) <= DEGREE_TOLERANCE
        for a, b in zip(ours, exp))
    return ours, exp, "exiftool GPSPosition", ok


def check_orientation(f):
    ours, exp = f.facts.get("orientation"), f.ex.get("Orientation")
    if ours is None and exp is None:
        return None
    return ours, exp, "exiftool Orientation", ours == exp


def check_rotation(f):
    ours = f.facts.get("rotation")
    v = f.ff_video()
    if not f.still and v is not None:
        exp, where = ff_rotation(v), "ffprobe display matrix (-rotation mod 360)"
    elif isinstance(f.ex.get("Rotation"), int):
        exp, where = f.ex["Rotation"], "exiftool Rotation"
    else:
        exp, where = None, "ffprobe/exiftool"
    if ours is None and exp is None:
        return None
    # A still without a rotation fact is not turned: 0.
    eff = 0 if ours is None and f.still else ours
    return ours, exp, where, eff is not None and eff == exp


CHECKS = {name: globals()["check_" + name] for name in FIELDS}


# --- exceptions ---------------------------------------------------------------
# (fields, test(f, field, ours, expected, where), why).  The first entry whose test
# holds explains a difference; each test checks that the difference is the
# one described, so that any other difference in the field still fails.

def image_reader_consistent(f):
    """ffprobe read the file as one picture of the format we name."""
    s = f.ff_streams()
    return (f.still and is_image_reader(f.fmt) and len(s) == 1 and
            IMAGE_CODECS.get(s[0].get("codec_name")) == f.facts.get("container"))


def still_reader(f, field, ours, exp, where):
    return image_reader_consistent(f) and (field == "container" or ours is None)


def heif_unread(f, field, ours, exp, where):
    return f.still and ours == "heif" and not f.ff_ok


def not_media(f, field, ours, exp, where):
    return (ours is None and "type" in f.doc and not f.ff_ok and not f.is_media() and
            not f.still and "container" not in f.doc)


def ffprobe_fails_too(f, field, ours, exp, where):
    return ours is None and not f.ff_ok and not f.still and f.av_error() is not None


def av_hidden(keys):
    """A fact libavformat does not give: no tag of KEYS in ffprobe's."""
    def test(f, field, ours, exp, where):
        return (ours is None and f.av_read() and where.startswith("exiftool") and
                not any(k in f.ff_tags() for k in keys))
    return test


def riff_day_only(f, field, ours, exp, where):
    tags = f.ff_tags()
    return (ours is None and f.av_read() and where.startswith("exiftool") and
            "date" in tags and "creation_time" not in tags and
            "com.apple.quicktime.creationdate" not in tags)


def mkv_date_utc(f, field, ours, exp, where):
    c = f.ff_format_tags().get("creation_time")
    return ((f.fmt or "").startswith("matroska") and
            where == "exiftool DateTimeOriginal" and
            time19(ours) is not None and time19(ours) == time19(c))


def idit_seconds(f, field, ours, exp, where):
    c, o, e = f.ff_format_tags().get("creation_time"), time19(ours), time19(exp)
    return (f.fmt == "avi" and where == "exiftool DateTimeOriginal" and
            o is not None and o == time19(c) and e is not None and
            e[:16] == o[:16] and e.endswith(":00") and
            o.replace(":", "/", 2).encode() in f.raw())


def exif_datetime_first(f, field, ours, exp, where):
    return (where == "exiftool CreateDate" and f.source("capture_time") == "exif" and
            not f.exif_has("EXIF", "0x9003") and not f.exif_has("EXIF", "0x9004") and
            f.exif_has("0", "0x0132"))


def heif_exif_offset(f, field, ours, exp, where):
    """A HEIF Exif item whose header offset is 0 though "Exif\\0\\0"
    precedes the TIFF header: exiftool reads no EXIF at all, we do."""
    return (exp is None and (f.image or {}).get("format") == "heif" and
            "ExifByteOrder" not in f.ex and f.source(field) in ("exif", "gps") and
            any(b"\0\0\0\0Exif\0\0" + bo in f.raw() for bo in (b"MM", b"II")))


def xmp_orientation(f, field, ours, exp, where):
    return (ours is None and f.still and not f.exif_has("0", "0x0112") and
            b"tiff:Orientation" in f.raw())


def makernote_rotation(f, field, ours, exp, where):
    return (f.still and where == "exiftool Rotation" and ours is None and
            (f.image or {}).get("format") != "heif")


EXCEPTIONS = [
    (("container", "duration", "streams", "codecs"), still_reader,
     "a still: FFmpeg reads it through an image reader (image2, *_pipe: not a "
     "container) as one video stream, one frame long at 25 fps; our image parser "
     "reads it, and our container fact names the image format, that stream's"),
    (("container",), heif_unread,
     "FFmpeg 5.1 has no HEIF demuxer (ffprobe rejects the file); libheif reads it"),
    (FIELDS, not_media,
     "not a media file: the probe describes it with libmagic only (formats.md 18, "
     "magic); exiftool reads the metadata a document or an XMP sidecar embeds"),
    (FIELDS, ffprobe_fails_too,
     "libavformat refuses the file as ffprobe does (the error is recorded); "
     "exiftool reads what is left of its header"),
    (("make", "model"), av_hidden(("make", "model", "com.apple.quicktime.make",
                                   "com.apple.quicktime.model")),
     "libavformat does not expose it (ffprobe's tags lack it either): exiftool "
     "reads a maker's own chunk (Pentax QuickTime/RIFF, AVCHD MDPM in H.264 SEI)"),
    (("capture_time",), av_hidden(("creation_time", "com.apple.quicktime.creationdate",
                                   "date")),
     "libavformat does not expose a time (ffprobe's tags lack it either): exiftool "
     "reads a maker's own data (AVCHD MDPM in H.264 SEI)"),
    (("capture_time",), riff_day_only,
     "libavformat gives only a day (the RIFF ICRD 'date' tag), not a time; exiftool "
     "reads the camera's own RIFF chunk"),
    (("location",), av_hidden(("location", "location-eng",
                               "com.apple.quicktime.location.iso6709")),
     "libavformat does not expose a place (ffprobe's tags lack it either)"),
    (("capture_time",), mkv_date_utc,
     "Matroska: a CREATION_TIME tag replaces Segment Info DateUTC in libavformat's "
     "metadata (case-insensitive keys), as ffprobe shows; exiftool gives DateUTC, "
     "the time of muxing"),
    (("capture_time",), idit_seconds,
     "exiftool 12.57 reads a RIFF IDIT date written YYYY/MM/DD HH:MM:SS without its "
     "seconds; the file's bytes and ffprobe's creation_time have them"),
    (("capture_time",), exif_datetime_first,
     "the file has no EXIF DateTimeOriginal/Digitized: formats.md 18 ranks EXIF "
     "DateTime above XMP, exiftool's CreateDate is XMP's xmp:CreateDate"),
    (("make", "model", "capture_time", "location", "orientation"), heif_exif_offset,
     "the HEIF Exif item's header offset is 0 though 'Exif\\0\\0' precedes the TIFF "
     "header (a writer's slip): exiftool 12.57 then finds no EXIF, our reader skips "
     "the prefix and reads it"),
    (("orientation",), xmp_orientation,
     "facts take orientation from EXIF only (formats.md 18); exiftool's is XMP "
     "tiff:Orientation"),
    (("rotation",), makernote_rotation,
     "exiftool's Rotation of a JPEG is a maker-note tag (Panasonic: how the camera "
     "was held), not a display transform; a photo's is its orientation"),
]


def explain(f, field, ours, exp, where):
    for fields, test, why in EXCEPTIONS:
        if field in fields and test(f, field, ours, exp, where):
            return why
    return None


# --- the run ------------------------------------------------------------------

def load_json(path):
    try:
        with open(path, encoding="utf-8") as fp:
            return json.load(fp)
    except (OSError, ValueError):
        return None


def show(v):
    if isinstance(v, float):
        return repr(round(v, 9))
    if isinstance(v, tuple):
        return "(%s)" % ", ".join(show(x) for x in v)
    return json.dumps(v, ensure_ascii=False)


class Tally:
    def __init__(self):
        self.checked = self.matched = self.exceptions = 0
        self.mismatches = []
        self.why = {}

    def line(self, status, rel, field, detail):
        print("%-9s %s  %s: %s" % (status, rel, field, detail))

    def ok(self, rel, field, detail):
        self.checked += 1
        self.matched += 1
        self.line("ok", rel, field, detail)

    def exception(self, rel, field, detail, why):
        self.checked += 1
        self.exceptions += 1
        self.why.setdefault(why, []).append("%s %s" % (rel, field))
        self.line("exception", rel, field, "%s; %s" % (detail, why))

    def mismatch(self, rel, field, detail):
        self.checked += 1
        self.mismatches.append("%s  %s: %s" % (rel, field, detail))
        self.line("MISMATCH", rel, field, detail)


def check_file(t, f):
    errors = f.doc.get("errors") or []
    for e in errors:
        if e.startswith(PROBE_FAILURES):
            t.mismatch(f.rel, "probe", "the probe failed: %s" % e)
    for field in FIELDS:
        r = CHECKS[field](f)
        if r is None:
            continue
        ours, exp, where, equal = r
        if equal:
            shown = show(ours) if ours is not None else "none, %s" % show(exp)
            t.ok(f.rel, field, "%s (%s)" % (shown, where))
            continue
        detail = "ours %s, %s %s" % (show(ours), where, show(exp))
        why = explain(f, field, ours, exp, where)
        if why:
            t.exception(f.rel, field, detail, why)
        else:
            t.mismatch(f.rel, field, detail)


def main(argv):
    if len(argv) not in (3, 4):
        sys.stderr.write("usage: check-fidelity.py CORPUS EXPECTED [PROBE_JSON]\n")
        return 2
    corpus, expected = (os.path.realpath(a) for a in argv[1:3])
    try:
        if len(argv) == 4:
            with open(argv[3], encoding="utf-8") as fp:
                docs = json.load(fp)
        else:
            docs = json.load(sys.stdin)
    except (OSError, ValueError) as e:
        sys.stderr.write("check-fidelity.py: cannot read the probe's output: %s\n" % e)
        return 2
    if not isinstance(docs, list):
        sys.stderr.write("check-fidelity.py: the probe's output is not an array\n")
        return 2

    t = Tally()
    files = 0
    for doc in docs:
        path = doc.get("path") if isinstance(doc, dict) else None
        if not isinstance(path, str):
            t.mismatch("?", "path", "a document without a path")
            continue
        real = os.path.realpath(path)
        rel = os.path.relpath(real, corpus)
        if rel.startswith(".." + os.sep):
            t.mismatch(path, "path", "not under %s" % corpus)
            continue
        files += 1
        base = os.path.join(expected, rel)
        ff = load_json(base + ".ffprobe.json")
        ex = load_json(base + ".exiftool-n.json")
        if ff is None or ex is None:
            t.mismatch(rel, "expected", "no %s.ffprobe.json / .exiftool-n.json in %s"
                       % (rel, expected))
            continue
        if isinstance(ex, list):
            ex = ex[0] if ex else {}
        check_file(t, File(rel, real, doc, ff if isinstance(ff, dict) else {}, ex))

    print()
    print("# exceptions, by reason:")
    for why, where in t.why.items():
        print("#   %d x %s" % (len(where), why))
    if t.mismatches:
        print("# mismatches:")
        for m in t.mismatches:
            print("#   " + m)
    print("# fidelity: %d files, %d checked: %d matched, %d exceptions, %d mismatches"
          % (files, t.checked, t.matched, t.exceptions, len(t.mismatches)))
    return 1 if t.mismatches else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
