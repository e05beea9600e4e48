/*
 * av.c: libavformat over the in-memory file, for audio and video
 * containers (MP4/MOV, Matroska/WebM, AVI, MPEG-TS, FLV, Ogg, MP3, WAV,
 * ...): the container's own description of its streams, tags, chapters
 * and attachments in doc.container, and the candidate facts "container".
 *
 * libavformat never sees a file name: it reads the probe's mapping
 * through an AVIOContext of our own, and any demuxer that asks to open
 * another file or URL (playlists, references) is refused.  Its log is
 * captured per file in fixed buffers and becomes the document's errors
 * and warnings.
 *
 * Reading the container's header is cheap; avformat_find_stream_info()
 * (which decodes a few frames) is not, so it runs only when the header
 * left something out that the document needs: a codec, a picture size,
 * a sample rate, the duration, or streams that only packets announce
 * (MPEG-TS, FLV, raw streams), or when the container is not one whose
 * header is known to agree with ffprobe.  Its decoders run
 * single-threaded (the sandbox allows no new threads) and decode key
 * frames only.  Without it, what it would have added is worked out the
 * way it would: start times from the first few packets, the bit rate from
 * the size and duration, profiles from the codecs' configuration records.
 */
#include <iconv.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavformat/avio.h>
#include <libavutil/channel_layout.h>
#include <libavutil/dict.h>
#include <libavutil/display.h>
#include <libavutil/log.h>
#include <libavutil/mem.h>
#include <libavutil/pixdesc.h>
#include <libavutil/time.h>

#include "vault/media/media.h"

/* Bytes libavformat may read to guess the format, and to find the
 * streams' parameters (its defaults: enough for any real file). */
#define AV_FORMAT_PROBESIZE (1 << 20)
#define AV_PROBESIZE 5000000
/* The AVIOContext's buffer: libavformat's own file protocol uses 32 KiB. */
#define AV_IO_BUFSIZE 32768
/* One file may keep libavformat busy this long (microseconds); a crafted
 * file can make some demuxers crawl, and the probe has other files. */
#define AV_TIME_BUDGET (10 * 1000000LL)

/* --- the log ------------------------------------------------------------ */

/* Messages kept per file, and the longest kept.  The callback runs inside
 * libavformat and libavcodec: it never allocates, and what does not fit is
 * counted and left out. */
#define AVLOG_KEEP 24
#define AVLOG_LINE 300

struct avlog_msg {
	int level;
	int codec; /* from libavcodec rather than libavformat */
	char text[AVLOG_LINE];
};

static struct {
	int on; /* inside media_av() */
	unsigned n, lost;
	struct avlog_msg msg[AVLOG_KEEP];
	struct avlog_msg cur; /* a line that came in pieces */
	size_t cur_len;
} avlog;

static void avlog_commit(void)
{
	struct avlog_msg *c = &avlog.cur;
	size_t l = avlog.cur_len;

	avlog.cur_len = 0;
	while (l && (c->text[l - 1] == '\n' || c->text[l - 1] == ' ' ||
		     c->text[l - 1] == '\r'))
		l--;
	c->text[l] = '\0';
	if (!l)
		return;
	/* "Could not find codec parameters ...\nConsider increasing ..." */
	for (size_t i = 0; i < l; i++)
		if (c->text[i] == '\n' || c->text[i] == '\r')
			c->text[i] = ' ';
	for (unsigned i = 0; i < avlog.n; i++)
		if (avlog.msg[i].level == c->level &&
		    !strcmp(avlog.msg[i].text, c->text))
			return; /* a broken stream repeats itself */
	if (avlog.n < AVLOG_KEEP)
		avlog.msg[avlog.n++] = *c;
	else
		avlog.lost++;
}

/* Which library speaks: codec contexts and bitstream filters belong to
 * libavcodec (and name their codec), the rest to libavformat. */
static int avlog_is_codec(void *avcl, const AVClass *cls)
{
	AVClassCategory cat =
		cls->get_category ? cls->get_category(avcl) : cls->category;
	return cat == AV_CLASS_CATEGORY_DECODER ||
	       cat == AV_CLASS_CATEGORY_ENCODER ||
	       cat == AV_CLASS_CATEGORY_BITSTREAM_FILTER;
}

__attribute__((format(printf, 3, 0))) static void
avlog_callback(void *avcl, int level, const char *fmt, va_list vl)
{
	if (!avlog.on || level > AV_LOG_WARNING || !fmt)
		return;
	const AVClass *cls = avcl ? *(const AVClass **)avcl : NULL;
	int codec = cls && avlog_is_codec(avcl, cls);
	struct avlog_msg *c = &avlog.cur;

	if (avlog.cur_len && (c->level != level || c->codec != codec))
		avlog_commit();
	if (!avlog.cur_len) {
		c->level = level;
		c->codec = codec;
		const char *item =
			codec && cls->item_name ? cls->item_name(avcl) : NULL;
		if (item) {
			int n = snprintf(c->text, sizeof c->text, "%s: ", item);
			if (n > 0)
				avlog.cur_len = (size_t)n < sizeof c->text
							? (size_t)n
							: sizeof c->text - 1;
		}
	}
	size_t room = sizeof c->text - avlog.cur_len;
	if (room > 1) {
		int n = vsnprintf(c->text + avlog.cur_len, room, fmt, vl);
		if (n > 0)
			avlog.cur_len +=
				(size_t)n < room ? (size_t)n : room - 1;
	}
	if (avlog.cur_len && c->text[avlog.cur_len - 1] == '\n')
		avlog_commit();
}

static void avlog_begin(void)
{
	avlog.n = avlog.lost = 0;
	avlog.cur_len = 0;
	avlog.on = 1;
}

/* The file's messages into the document: once libavformat has read the
 * file, what it complained about is what it read past (warnings); if it
 * could not, its errors say why. */
static void avlog_end(media_ctx *m, int opened)
{
	if (avlog.cur_len)
		avlog_commit();
	avlog.on = 0;
	for (unsigned i = 0; i < avlog.n; i++) {
		const struct avlog_msg *g = &avlog.msg[i];
		const char *who = g->codec ? "libavcodec" : "libavformat";
		if (!opened && g->level <= AV_LOG_ERROR)
			media_error(m, who, "%s", g->text);
		else
			media_warning(m, who, "%s", g->text);
	}
	if (avlog.lost)
		media_warning(m, "libavformat", "%u more messages left out",
			      avlog.lost);
}

/* The last error libavformat logged, for the reason an open failed. */
static const char *avlog_last_error(void)
{
	for (unsigned i = avlog.n; i > 0; i--)
		if (avlog.msg[i - 1].level <= AV_LOG_ERROR)
			return avlog.msg[i - 1].text;
	return NULL;
}

/* What libavformat loads from disk the first time a file needs it, loaded
 * now, before the sandbox closes: the MPEG-TS demuxer converts DVB
 * service names with iconv, whose converters are modules that glibc loads
 * on first use (and unloads once no descriptor uses them, so these stay
 * open for the process's life); and the time zone, which gmtime_r()
 * reads once when MP4 or Matroska creation times are formatted. */
static void av_preload(void)
{
	static const char *const charsets[] = {
		"ISO6937",     "ISO-8859-1",  "ISO-8859-2",  "ISO-8859-3",
		"ISO-8859-4",  "ISO-8859-5",  "ISO-8859-6",  "ISO-8859-7",
		"ISO-8859-8",  "ISO-8859-9",  "ISO-8859-10", "ISO-8859-11",
		"ISO-8859-13", "ISO-8859-14", "ISO-8859-15", "UCS-2BE",
		"KSC_5601",    "GB2312",      "BIG5",	     "UTF-8",
	};
	static iconv_t kept[sizeof charsets / sizeof charsets[0]];

	for (size_t i = 0; i < sizeof charsets / sizeof charsets[0]; i++)
		if (!kept[i])
			kept[i] = iconv_open("UTF-8", charsets[i]);
	tzset();
}

void media_av_init(void)
{
	av_log_set_level(AV_LOG_WARNING);
	av_log_set_callback(avlog_callback);
	av_preload();
}

/* --- reading from memory ------------------------------------------------ */

struct av_mem {
	const uint8_t *data;
	size_t len;
	int64_t pos; /* may be past the end, as a file offset may */
	int64_t deadline;
};

static int mem_read(void *opaque, uint8_t *buf, int size)
{
	struct av_mem *mm = opaque;

	if (av_gettime_relative() > mm->deadline)
		return AVERROR_EXIT;
	if (size <= 0 || mm->pos < 0 || (uint64_t)mm->pos >= mm->len)
		return AVERROR_EOF;
	size_t n = mm->len - (size_t)mm->pos;
	if (n > (size_t)size)
		n = (size_t)size;
	memcpy(buf, mm->data + mm->pos, n);
	mm->pos += (int64_t)n;
	return (int)n;
}

/* lseek()'s rules: any offset from 0 on, reads past the end find EOF. */
static int64_t mem_seek(void *opaque, int64_t offset, int whence)
{
	struct av_mem *mm = opaque;
	int64_t base;

	switch (whence & ~AVSEEK_FORCE) {
	case AVSEEK_SIZE:
		return (int64_t)mm->len;
	case SEEK_SET:
		base = 0;
		break;
	case SEEK_CUR:
		base = mm->pos;
		break;
	case SEEK_END:
		base = (int64_t)mm->len;
		break;
	default:
		return AVERROR(EINVAL);
	}
	if (offset < -base || offset > INT64_MAX - base)
		return AVERROR(EINVAL);
	mm->pos = base + offset;
	return mm->pos;
}

static int av_interrupt(void *opaque)
{
	const struct av_mem *mm = opaque;
	return av_gettime_relative() > mm->deadline;
}

/* Demuxers that follow references (playlists, concat lists, QuickTime
 * data references) open them through here: never. */
static int av_refuse_open(AVFormatContext *s, AVIOContext **pb, const char *url,
			  int flags, AVDictionary **options)
{
	(void)pb, (void)flags, (void)options;
	av_log(s, AV_LOG_WARNING,
	       "refused to open '%.200s': the file refers "
	       "to another file or URL\n",
	       url ? url : "");
	return AVERROR(EPERM);
}

/* --- opening ------------------------------------------------------------ */

struct av_file {
	struct av_mem mem;
	AVIOContext *io;
	AVFormatContext *fc;
};

static void av_file_close(struct av_file *f)
{
	avformat_close_input(&f->fc);
	if (f->io) {
		/* libavformat may have replaced the buffer we gave it. */
		av_freep(&f->io->buffer);
		avio_context_free(&f->io);
	}
}

/* 0 when libavformat read the file's header, else an AVERROR. */
static int av_file_open(struct av_file *f, const media_ctx *m)
{
	f->mem = (struct av_mem){
		.data = m->data,
		.len = m->len,
		.deadline = av_gettime_relative() + AV_TIME_BUDGET,
	};
	uint8_t *buf = av_malloc(AV_IO_BUFSIZE);
	if (!buf)
		return AVERROR(ENOMEM);
	f->io = avio_alloc_context(buf, AV_IO_BUFSIZE, 0, &f->mem, mem_read,
				   NULL, mem_seek);
	if (!f->io) {
		av_free(buf);
		return AVERROR(ENOMEM);
	}
	f->fc = avformat_alloc_context();
	if (!f->fc)
		return AVERROR(ENOMEM);
	f->fc->pb = f->io;
	f->fc->flags |= AVFMT_FLAG_CUSTOM_IO;
	f->fc->probesize = AV_PROBESIZE;
	f->fc->format_probesize = AV_FORMAT_PROBESIZE;
	f->fc->interrupt_callback.callback = av_interrupt;
	f->fc->interrupt_callback.opaque = &f->mem;
	f->fc->io_open = av_refuse_open;

	AVDictionary *opts = NULL;
	/* No protocol at all: nested demuxers inherit this list. */
	av_dict_set(&opts, "protocol_whitelist", "none", 0);
	/* On failure avformat_open_input() frees the context (not our IO). */
	int rc = avformat_open_input(&f->fc, "", NULL, &opts);
	av_dict_free(&opts);
	return rc;
}

/* Containers whose headers describe their streams as the decoders would:
 * checked against ffprobe.  Others (MXF, for one, gives the coded height,
 * not the picture's) always go through avformat_find_stream_info(). */
static int av_header_trusted(const AVInputFormat *f)
{
	static const char *const names[] = {
		"mov,mp4,m4a,3gp,3g2,mj2",
		"matroska,webm",
		"avi",
		"wav",
		"w64",
		"ogg",
		"flac",
		"aiff",
		"caf",
		"asf",
		"nut",
		"ivf",
		"dv",
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(f->name, names[i]))
			return 1;
	return 0;
}

/* Does the header leave out something only packets can tell? */
static int av_needs_stream_info(const AVFormatContext *fc)
{
	int has_duration = fc->duration != AV_NOPTS_VALUE;

	if ((fc->ctx_flags & AVFMTCTX_NOHEADER) || !fc->nb_streams ||
	    !av_header_trusted(fc->iformat))
		return 1;
	for (unsigned i = 0; i < fc->nb_streams; i++) {
		const AVStream *st = fc->streams[i];
		const AVCodecParameters *p = st->codecpar;
		if (st->duration != AV_NOPTS_VALUE)
			has_duration = 1;
		switch (p->codec_type) {
		case AVMEDIA_TYPE_VIDEO:
			if (p->codec_id == AV_CODEC_ID_NONE || p->width <= 0 ||
			    p->height <= 0)
				return 1;
			break;
		case AVMEDIA_TYPE_AUDIO:
			if (p->codec_id == AV_CODEC_ID_NONE ||
			    p->sample_rate <= 0 ||
			    p->ch_layout.nb_channels <= 0)
				return 1;
			break;
		case AVMEDIA_TYPE_SUBTITLE:
			if (p->codec_id == AV_CODEC_ID_NONE)
				return 1;
			break;
		default: /* data and attachments: nothing to decode */
			break;
		}
	}
	return !has_duration;
}

static int av_stream_info(AVFormatContext *fc)
{
	unsigned n = fc->nb_streams;
	AVDictionary **opts = av_calloc(n ? n : 1, sizeof *opts);
	if (!opts)
		return AVERROR(ENOMEM);
	/* The sandbox allows no new threads.  The decoders only need to show
	 * what a picture is like, not draw it: key frames are enough, and
	 * skipping the others makes a 4K MPEG-TS three times cheaper.  (Streams
	 * that appear only with packets, as FLV's, get libavcodec's defaults:
	 * find_stream_info() makes every decoder single-threaded itself.) */
	for (unsigned i = 0; i < n; i++) {
		av_dict_set(&opts[i], "threads", "1", 0);
		av_dict_set(&opts[i], "skip_frame", "nokey", 0);
	}
	int rc = avformat_find_stream_info(fc, opts);
	for (unsigned i = 0; i < n; i++)
		av_dict_free(&opts[i]);
	av_free(opts);
	return rc;
}

/* Some containers (Matroska, MP4 with priming samples) give a stream's
 * start only with its packets.  Read a few, no decoding, and take each
 * stream's earliest time among its first ones (B-frames come after the
 * picture they precede): what ffprobe reports as the stream's start. */
#define AV_START_PACKETS 64
#define AV_START_PER_STREAM 4

struct av_first {
	int64_t pts;
	int seen; /* packets with a time, or -1: not looked for */
};

static int is_pcm(enum AVCodecID id)
{
	return id >= AV_CODEC_ID_FIRST_AUDIO && id < AV_CODEC_ID_ADPCM_IMA_QT;
}

/* PCM starts where its file's data does; and WAV's first packets make
 * libavformat probe the samples for a hidden codec (DTS, S/PDIF), which
 * costs more than everything else here. */
static int av_wants_start(const AVStream *st)
{
	enum AVMediaType type = st->codecpar->codec_type;
	return (type == AVMEDIA_TYPE_VIDEO || type == AVMEDIA_TYPE_AUDIO) &&
	       !(st->disposition & AV_DISPOSITION_ATTACHED_PIC) &&
	       !is_pcm(st->codecpar->codec_id) &&
	       st->start_time == AV_NOPTS_VALUE;
}

static int av_first_done(const AVFormatContext *fc, const struct av_first *f,
			 unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (f[i].seen >= 0 && f[i].seen < AV_START_PER_STREAM &&
		    fc->streams[i]->start_time == AV_NOPTS_VALUE)
			return 0;
	return 1;
}

static void av_find_start(AVFormatContext *fc)
{
	unsigned n = fc->nb_streams, want = 0;
	struct av_first *f = av_malloc_array(n ? n : 1, sizeof *f);
	AVPacket *pkt = av_packet_alloc();

	if (!f || !pkt)
		goto out;
	for (unsigned i = 0; i < n; i++) {
		f[i].seen = av_wants_start(fc->streams[i]) ? 0 : -1;
		f[i].pts = INT64_MAX;
		want += f[i].seen == 0;
	}
	for (int k = 0; want && k < AV_START_PACKETS; k++) {
		if (av_first_done(fc, f, n) || av_read_frame(fc, pkt) < 0)
			break;
		unsigned i = (unsigned)pkt->stream_index;
		if (i < n && f[i].seen >= 0 && pkt->pts != AV_NOPTS_VALUE) {
			f[i].pts = FFMIN(f[i].pts, pkt->pts);
			f[i].seen++;
		}
		av_packet_unref(pkt);
	}
	for (unsigned i = 0; i < n; i++)
		if (f[i].seen > 0 &&
		    fc->streams[i]->start_time == AV_NOPTS_VALUE)
			fc->streams[i]->start_time = f[i].pts;
out:
	av_packet_free(&pkt);
	av_free(f);
}

/* The start, duration and bit rate that avformat_find_stream_info() would
 * have worked out from what the header gave (its update_stream_timings():
 * the earliest stream start, the container's duration or else the longest
 * stream, the file's size over the duration).  Subtitle and data streams
 * count only when no other stream gives a time. */
struct av_timing {
	int64_t start, duration, bit_rate; /* AV_TIME_BASE units, bit/s */
};

static void av_timing_from_header(const AVFormatContext *fc, size_t size,
				  struct av_timing *t)
{
	int64_t start[2] = {INT64_MAX, INT64_MAX},
		end[2] = {INT64_MIN, INT64_MIN};
	int64_t dur[2] = {INT64_MIN, INT64_MIN};

	for (unsigned i = 0; i < fc->nb_streams; i++) {
		const AVStream *st = fc->streams[i];
		enum AVMediaType type = st->codecpar->codec_type;
		int text = type == AVMEDIA_TYPE_SUBTITLE ||
			   type == AVMEDIA_TYPE_DATA;
		if (!st->time_base.den || !st->time_base.num)
			continue;
		if (st->start_time != AV_NOPTS_VALUE) {
			int64_t s = av_rescale_q(st->start_time, st->time_base,
						 AV_TIME_BASE_Q);
			int64_t d =
				av_rescale_q_rnd(st->duration, st->time_base,
						 AV_TIME_BASE_Q,
						 AV_ROUND_NEAR_INF |
							 AV_ROUND_PASS_MINMAX);
			start[text] = FFMIN(start[text], s);
			if (d != AV_NOPTS_VALUE &&
			    (d > 0 ? s <= INT64_MAX - d : s >= INT64_MIN - d))
				end[text] = FFMAX(end[text], s + d);
		}
		if (st->duration != AV_NOPTS_VALUE)
			dur[text] =
				FFMAX(dur[text],
				      av_rescale_q(st->duration, st->time_base,
						   AV_TIME_BASE_Q));
	}
	if (start[0] == INT64_MAX ||
	    (start[0] > start[1] &&
	     start[0] - (uint64_t)start[1] < AV_TIME_BASE))
		start[0] = start[1];
	if (end[0] == INT64_MIN ||
	    (end[0] < end[1] && end[1] - (uint64_t)end[0] < AV_TIME_BASE))
		end[0] = end[1];
	if (dur[0] == INT64_MIN ||
	    (dur[0] < dur[1] && (uint64_t)dur[1] - dur[0] < AV_TIME_BASE))
		dur[0] = dur[1];

	t->start = fc->start_time;
	t->duration = fc->duration;
	if (start[0] != INT64_MAX) {
		t->start = start[0];
		if (end[0] != INT64_MIN && end[0] >= start[0] &&
		    end[0] - (uint64_t)start[0] <= INT64_MAX)
			dur[0] = FFMAX(dur[0], end[0] - start[0]);
	}
	if (t->duration == AV_NOPTS_VALUE && dur[0] != INT64_MIN && dur[0] > 0)
		t->duration = dur[0];
	t->bit_rate = fc->bit_rate;
	if (size && t->duration != AV_NOPTS_VALUE && t->duration > 0) {
		double br =
			(double)size * 8.0 * AV_TIME_BASE / (double)t->duration;
		if (br >= 0 && br <= (double)INT64_MAX)
			t->bit_rate = (int64_t)br;
	}
}

/* --- the document -------------------------------------------------------- */

/* A string libavformat took from the file: bounded, valid UTF-8, and a
 * warning when it was cut. */
static json_t *av_str(media_ctx *m, const char *s)
{
	size_t len = strlen(s);
	if (len > MEDIA_STR_MAX)
		media_warning(m, "libavformat",
			      "a %zu-byte text cut to %d bytes", len,
			      MEDIA_STR_MAX);
	return media_str(s, len);
}

static json_t *av_tags(media_ctx *m, const AVDictionary *d)
{
	json_t *o = json_object();
	const AVDictionaryEntry *e = NULL;

	while ((e = av_dict_get(d, "", e, AV_DICT_IGNORE_SUFFIX))) {
		json_t *k = av_str(m, e->key);
		json_object_set_new(o, json_string_value(k),
				    av_str(m, e->value));
		json_decref(k);
	}
	return o;
}

static const char *av_tag(const AVDictionary *d, const char *key)
{
	const AVDictionaryEntry *e = av_dict_get(d, key, NULL, 0);
	return e && e->value[0] ? e->value : NULL;
}

static double av_seconds(int64_t ts, AVRational tb)
{
	return (double)ts * av_q2d(tb);
}

static void set_ratio(json_t *o, const char *key, AVRational r)
{
	char s[32];
	if (r.num && r.den) {
		snprintf(s, sizeof s, "%d/%d", r.num, r.den);
		json_object_set_new(o, key, json_string(s));
	}
}

/* 1 with the display matrix's rotation in *deg (degrees counter-clockwise,
 * as ffprobe prints it once truncated), or 0 if the stream has none. */
static int av_rotation(const AVStream *st, double *deg)
{
	for (int i = 0; i < st->nb_side_data; i++) {
		const AVPacketSideData *sd = &st->side_data[i];
		if (sd->type != AV_PKT_DATA_DISPLAYMATRIX ||
		    sd->size < 9 * sizeof(int32_t))
			continue;
		double r = av_display_rotation_get((const int32_t *)sd->data);
		if (isnan(r))
			return 0;
		*deg = r;
		return 1;
	}
	return 0;
}

static json_t *av_side_data(const AVStream *st)
{
	json_t *list = json_array();
	for (int i = 0; i < st->nb_side_data; i++) {
		const AVPacketSideData *sd = &st->side_data[i];
		const char *name = av_packet_side_data_name(sd->type);
		json_t *o = json_pack("{s:s}", "type", name ? name : "unknown");
		double r;
		if (sd->type == AV_PKT_DATA_DISPLAYMATRIX &&
		    av_rotation(st, &r))
			json_object_set_new(o, "rotation",
					    json_integer((json_int_t)r));
		json_array_append_new(list, o);
	}
	return list;
}

static json_t *av_disposition(int disp)
{
	json_t *list = json_array();
	for (int bit = 0; bit < 31; bit++) {
		if (!(disp & (1 << bit)))
			continue;
		const char *name = av_disposition_to_string(1 << bit);
		if (name)
			json_array_append_new(list, json_string(name));
	}
	return list;
}

static const char *av_codec_name(enum AVCodecID id)
{
	const AVCodecDescriptor *d = avcodec_descriptor_get(id);
	return d ? d->name : NULL;
}

/* --- profiles ------------------------------------------------------------ */

/* The profile libavcodec reports once it has decoded a frame, read here
 * from the codec's configuration record for the codecs cameras use, when
 * the header was enough and no decoder ran.  FF_PROFILE_UNKNOWN if the
 * record is not one of these. */
static int h264_profile(const uint8_t *x, size_t n)
{
	const uint8_t *sps = NULL;

	if (n >= 4 && x[0] == 1) { /* avcC: version, profile, constraints */
		sps = x + 1;
	} else { /* Annex B: the sequence parameter set's NAL unit */
		for (size_t i = 0; i + 6 <= n && !sps; i++)
			if (!x[i] && !x[i + 1] && x[i + 2] == 1 &&
			    (x[i + 3] & 0x1f) == 7)
				sps = x + i + 4;
	}
	if (!sps)
		return FF_PROFILE_UNKNOWN;
	int profile = sps[0], flags = sps[1];
	/* constraint_set1 and _set3 are the second and fourth bits. */
	if (profile == 66 && (flags & 0x40))
		profile |= FF_PROFILE_H264_CONSTRAINED;
	if ((profile == 110 || profile == 122 || profile == 244) &&
	    (flags & 0x10))
		profile |= FF_PROFILE_H264_INTRA;
	return profile;
}

static int hevc_profile(const uint8_t *x, size_t n)
{
	if (n < 6 || x[0] != 1) /* hvcC */
		return FF_PROFILE_UNKNOWN;
	int profile = x[1] & 0x1f;
	/* Profile 0: the first profile it says it is compatible with. */
	for (int j = 1; j < 32 && !profile; j++)
		if (x[2 + j / 8] >> (7 - j % 8) & 1)
			profile = j;
	return profile ? profile : FF_PROFILE_UNKNOWN;
}

static int aac_profile(const uint8_t *x, size_t n)
{
	if (n < 2) /* AudioSpecificConfig */
		return FF_PROFILE_UNKNOWN;
	int aot = x[0] >> 3;
	if (aot == 31)
		aot = 32 + ((x[0] & 7) << 3 | x[1] >> 5);
	/* libavcodec's AAC profiles are the object types less one. */
	return aot > 0 ? aot - 1 : FF_PROFILE_UNKNOWN;
}

static int av1_profile(const uint8_t *x, size_t n)
{
	if (n < 2 || x[0] != 0x81) /* av1C: marker and version 1 */
		return FF_PROFILE_UNKNOWN;
	return x[1] >> 5;
}

static const char *av_profile(const AVCodecParameters *p)
{
	int profile = p->profile;
	size_t n = p->extradata_size > 0 ? (size_t)p->extradata_size : 0;

	if (profile == FF_PROFILE_UNKNOWN && p->extradata) {
		if (p->codec_id == AV_CODEC_ID_H264)
			profile = h264_profile(p->extradata, n);
		else if (p->codec_id == AV_CODEC_ID_HEVC)
			profile = hevc_profile(p->extradata, n);
		else if (p->codec_id == AV_CODEC_ID_AAC)
			profile = aac_profile(p->extradata, n);
		else if (p->codec_id == AV_CODEC_ID_AV1)
			profile = av1_profile(p->extradata, n);
	}
	return avcodec_profile_name(p->codec_id, profile);
}

static int names_mono_stereo(enum AVCodecID id)
{
	static const enum AVCodecID ids[] = {
		AV_CODEC_ID_AAC,    AV_CODEC_ID_MP1,	AV_CODEC_ID_MP2,
		AV_CODEC_ID_MP3,    AV_CODEC_ID_AC3,	AV_CODEC_ID_EAC3,
		AV_CODEC_ID_VORBIS, AV_CODEC_ID_OPUS,	AV_CODEC_ID_FLAC,
		AV_CODEC_ID_ALAC,   AV_CODEC_ID_AMR_NB, AV_CODEC_ID_AMR_WB,
	};
	for (size_t i = 0; i < sizeof ids / sizeof ids[0]; i++)
		if (id == ids[i])
			return 1;
	return 0;
}

static json_t *av_stream(media_ctx *m, const AVStream *st)
{
	const AVCodecParameters *p = st->codecpar;
	const AVCodecDescriptor *d = avcodec_descriptor_get(p->codec_id);
	const char *type = av_get_media_type_string(p->codec_type);
	json_t *o = json_object();
	char s[64];

	json_object_set_new(o, "index", json_integer(st->index));
	json_object_set_new(o, "type", json_string(type ? type : "unknown"));
	if (d) {
		json_object_set_new(o, "codec", json_string(d->name));
		if (d->long_name)
			json_object_set_new(o, "codec_long",
					    json_string(d->long_name));
	}
	if (p->codec_tag) {
		av_fourcc_make_string(s, p->codec_tag);
		json_object_set_new(o, "codec_tag", av_str(m, s));
	}
	const char *profile = av_profile(p);
	if (profile)
		json_object_set_new(o, "profile", json_string(profile));
	if (p->codec_type == AVMEDIA_TYPE_VIDEO) {
		if (p->width > 0 && p->height > 0) {
			json_object_set_new(o, "width", json_integer(p->width));
			json_object_set_new(o, "height",
					    json_integer(p->height));
		}
		const char *pix = av_get_pix_fmt_name(p->format);
		if (pix)
			json_object_set_new(o, "pix_fmt", json_string(pix));
		set_ratio(o, "frame_rate", st->r_frame_rate);
		set_ratio(o, "avg_frame_rate", st->avg_frame_rate);
	}
	set_ratio(o, "time_base", st->time_base);
	if (st->start_time != AV_NOPTS_VALUE && st->time_base.den)
		json_object_set_new(o, "start_time",
				    json_real(av_seconds(st->start_time,
							 st->time_base)));
	if (st->duration != AV_NOPTS_VALUE && st->time_base.den)
		json_object_set_new(o, "duration",
				    json_real(av_seconds(st->duration,
							 st->time_base)));
	if (p->bit_rate > 0)
		json_object_set_new(o, "bit_rate", json_integer(p->bit_rate));
	if (p->codec_type == AVMEDIA_TYPE_AUDIO) {
		if (p->sample_rate > 0)
			json_object_set_new(o, "sample_rate",
					    json_integer(p->sample_rate));
		if (p->ch_layout.nb_channels > 0)
			json_object_set_new(o, "channels",
					    json_integer(
						    p->ch_layout.nb_channels));
		/* Containers give the channel count, not the layout, which
		 * these decoders call "mono" or "stereo" for one or two (PCM's
		 * and WMA's leave it unset). */
		AVChannelLayout l = p->ch_layout;
		if (l.order == AV_CHANNEL_ORDER_UNSPEC && l.nb_channels <= 2 &&
		    names_mono_stereo(p->codec_id))
			av_channel_layout_default(&l, l.nb_channels);
		if (l.order != AV_CHANNEL_ORDER_UNSPEC &&
		    av_channel_layout_describe(&l, s, sizeof s) > 0)
			json_object_set_new(o, "channel_layout",
					    json_string(s));
	}
	const char *lang = av_tag(st->metadata, "language");
	if (lang)
		json_object_set_new(o, "language", av_str(m, lang));
	if (av_dict_count(st->metadata))
		json_object_set_new(o, "tags", av_tags(m, st->metadata));
	if (st->nb_side_data)
		json_object_set_new(o, "side_data", av_side_data(st));
	if (st->disposition)
		json_object_set_new(o, "disposition",
				    av_disposition(st->disposition));
	return o;
}

static json_t *av_chapters(media_ctx *m, const AVFormatContext *fc)
{
	json_t *list = json_array();
	for (unsigned i = 0; i < fc->nb_chapters; i++) {
		const AVChapter *c = fc->chapters[i];
		json_t *o = json_object();
		if (c->time_base.den) {
			json_object_set_new(o, "start",
					    json_real(
						    av_seconds(c->start,
							       c->time_base)));
			json_object_set_new(o, "end",
					    json_real(
						    av_seconds(c->end,
							       c->time_base)));
		}
		if (av_dict_count(c->metadata))
			json_object_set_new(o, "tags", av_tags(m, c->metadata));
		json_array_append_new(list, o);
	}
	return list;
}

/* Files carried inside the container, byte-exact: Matroska attachments
 * (fonts, pictures, anything) and cover art (ID3 APIC, MP4 covr). */
static json_t *av_attachments(media_ctx *m, const AVFormatContext *fc)
{
	json_t *list = json_array();
	for (unsigned i = 0; i < fc->nb_streams; i++) {
		const AVStream *st = fc->streams[i];
		const AVCodecParameters *p = st->codecpar;
		const uint8_t *bytes;
		size_t size;
		json_t *o;

		if (p->codec_type == AVMEDIA_TYPE_ATTACHMENT) {
			bytes = p->extradata;
			size = p->extradata_size > 0 ? (size_t)p->extradata_size
						     : 0;
			o = json_pack("{s:i}", "stream", (int)i);
			const char *name = av_tag(st->metadata, "filename");
			const char *mime = av_tag(st->metadata, "mimetype");
			if (name)
				json_object_set_new(o, "filename",
						    av_str(m, name));
			if (mime)
				json_object_set_new(o, "mimetype",
						    av_str(m, mime));
		} else if (st->disposition & AV_DISPOSITION_ATTACHED_PIC) {
			bytes = st->attached_pic.data;
			size = st->attached_pic.size > 0
				       ? (size_t)st->attached_pic.size
				       : 0;
			o = json_pack("{s:i,s:b}", "stream", (int)i,
				      "attached_pic", 1);
			const char *mime =
				p->codec_id == AV_CODEC_ID_MJPEG ? "image/jpeg"
				: p->codec_id == AV_CODEC_ID_PNG ? "image/png"
				: p->codec_id == AV_CODEC_ID_BMP ? "image/bmp"
				: p->codec_id == AV_CODEC_ID_GIF ? "image/gif"
								 : NULL;
			if (mime)
				json_object_set_new(o, "mimetype",
						    json_string(mime));
		} else {
			continue;
		}
		json_object_set_new(o, "size", json_integer((json_int_t)size));
		if (bytes && size)
			json_object_set_new(o, "data", media_b64(bytes, size));
		json_array_append_new(list, o);
	}
	return list;
}

/* --- MIME types ----------------------------------------------------------- */

static int av_has_video(const AVFormatContext *fc)
{
	for (unsigned i = 0; i < fc->nb_streams; i++)
		if (fc->streams[i]->codecpar->codec_type ==
			    AVMEDIA_TYPE_VIDEO &&
		    !(fc->streams[i]->disposition &
		      AV_DISPOSITION_ATTACHED_PIC))
			return 1;
	return 0;
}

/* Matroska's EBML header names its DocType ("matroska" or "webm") within
 * the first few dozen bytes: element 0x4282, a one-byte size, the text. */
static int is_webm(const media_ctx *m)
{
	size_t n = m->len < 64 ? m->len : 64;
	for (size_t i = 0; i + 7 <= n; i++)
		if (m->data[i] == 0x42 && m->data[i + 1] == 0x82 &&
		    m->data[i + 2] == 0x84 &&
		    !memcmp(m->data + i + 3, "webm", 4))
			return 1;
	return 0;
}

static const char *mov_mime(const AVFormatContext *fc, int video)
{
	const char *brand = av_tag(fc->metadata, "major_brand");
	if (brand && !strncmp(brand, "qt", 2))
		return "video/quicktime";
	if (brand && !strncmp(brand, "3gp", 3))
		return video ? "video/3gpp" : "audio/3gpp";
	if (brand && !strncmp(brand, "3g2", 3))
		return video ? "video/3gpp2" : "audio/3gpp2";
	if (brand && !strncmp(brand, "mjp2", 4))
		return "video/mj2";
	return video ? "video/mp4" : "audio/mp4";
}

static const char *av_mime(const media_ctx *m, const AVFormatContext *fc)
{
	static const struct {
		const char *format, *mime;
	} table[] = {
		{"mpegts", "video/mp2t"},
		{"mp3", "audio/mpeg"},
		{"wav", "audio/x-wav"},
		{"avi", "video/x-msvideo"},
		{"flv", "video/x-flv"},
		{"aac", "audio/aac"},
		{"flac", "audio/flac"},
		{"amr", "audio/amr"},
		{"amrnb", "audio/amr"},
		{"amrwb", "audio/amr-wb"},
		{"aiff", "audio/x-aiff"},
		{"ac3", "audio/ac3"},
		{"eac3", "audio/eac3"},
		{"au", "audio/basic"},
		{"caf", "audio/x-caf"},
		{"w64", "audio/x-w64"},
		{"wv", "audio/x-wavpack"},
		{"ape", "audio/x-ape"},
		{"mpeg", "video/mpeg"},
		{"mpegvideo", "video/mpeg"},
		{"asf", "video/x-ms-asf"},
		{"mxf", "application/mxf"},
		{"h264", "video/h264"},
		{"hevc", "video/h265"},
		{"rm", "application/vnd.rn-realmedia"},
		{"dv", "video/x-dv"},
		{"ivf", "video/x-ivf"},
		{"nut", "video/x-nut"},
		{"m4v", "video/mp4"},
		{"mpc", "audio/x-musepack"},
		{"tta", "audio/x-tta"},
		{"voc", "audio/x-voc"},
		{"mpegtsraw", "video/mp2t"},
	};
	const char *name = fc->iformat->name;
	int video = av_has_video(fc);

	if (!strcmp(name, "mov,mp4,m4a,3gp,3g2,mj2"))
		return mov_mime(fc, video);
	if (!strcmp(name, "matroska,webm")) {
		if (is_webm(m))
			return video ? "video/webm" : "audio/webm";
		return video ? "video/x-matroska" : "audio/x-matroska";
	}
	if (!strcmp(name, "ogg"))
		return video ? "video/ogg" : "audio/ogg";
	for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
		if (!strcmp(name, table[i].format))
			return table[i].mime;
	return NULL;
}

static void set_mime(json_t *c, const media_ctx *m, const AVFormatContext *fc)
{
	const char *mime = av_mime(m, fc);
	char first[64];

	if (!mime && fc->iformat->mime_type) {
		/* A list, most usual first: "audio/aac,audio/aacp,...". */
		size_t l = strcspn(fc->iformat->mime_type, ",");
		if (l > 0 && l < sizeof first) {
			memcpy(first, fc->iformat->mime_type, l);
			first[l] = '\0';
			mime = first;
		}
	}
	if (mime)
		json_object_set_new(c, "mime", json_string(mime));
}

/* --- facts ---------------------------------------------------------------- */

/* One ISO 6709 coordinate: sign, then degrees with `deg_digits` integer
 * digits (DD[D]), or degrees and minutes (DDMM), or degrees, minutes and
 * seconds (DDMMSS), each with an optional fraction.  Advances *sp. */
static int iso6709_coord(const char **sp, int deg_digits, double *out)
{
	const char *s = *sp, *num;
	char buf[40];
	size_t digits = 0, len;

	if (*s != '+' && *s != '-')
		return 0;
	num = s + 1;
	while (num[digits] >= '0' && num[digits] <= '9')
		digits++;
	len = digits;
	if (num[len] == '.')
		for (len++; num[len] >= '0' && num[len] <= '9'; len++)
			;
	if (!digits || len >= sizeof buf)
		return 0;
	memcpy(buf, num, len);
	buf[len] = '\0';
	double x = strtod(buf, NULL), v;
	/* Android writes degrees unpadded ("-0.2431"): fewer digits than
	 * ISO 6709's are degrees too. */
	if (digits <= (size_t)deg_digits) {
		v = x;
	} else if (digits == (size_t)deg_digits + 2) { /* DDMM.mm */
		double mm = fmod(x, 100);
		if (mm >= 60)
			return 0;
		v = floor(x / 100) + mm / 60;
	} else if (digits == (size_t)deg_digits + 4) { /* DDMMSS.ss */
		double ss = fmod(x, 100), mm = fmod(floor(x / 100), 100);
		if (mm >= 60 || ss >= 60)
			return 0;
		v = floor(x / 10000) + mm / 60 + ss / 3600;
	} else {
		return 0;
	}
	*out = *s == '-' ? -v : v;
	*sp = num + len;
	return 1;
}

/* "+48.8577+002.2950+035.000/", "+37.3349-122.0090/", "+4851.462+00217.700/",
 * Android's "+51.5932-0.2431/", and with a CRS suffix
 * ("+40.68-074.50+10CRSWGS_84/"). */
static json_t *av_iso6709(const char *s)
{
	double lat, lon, alt;
	if (!iso6709_coord(&s, 2, &lat) || !iso6709_coord(&s, 3, &lon) ||
	    fabs(lat) > 90 || fabs(lon) > 180)
		return NULL;
	/* What some devices write while they have no fix. */
	if (lat == 0 && lon == 0)
		return NULL;
	json_t *o = json_pack("{s:f,s:f}", "lat", lat, "lon", lon);
	if (*s == '+' || *s == '-') {
		char *end;
		alt = strtod(s, &end);
		if (end != s && isfinite(alt) && fabs(alt) < 1e6)
			json_object_set_new(o, "alt", json_real(alt));
	}
	return o;
}

static const char *av_first_tag(const AVFormatContext *fc,
				const char *const *keys)
{
	for (; *keys; keys++) {
		const char *v = av_tag(fc->metadata, *keys);
		if (v)
			return v;
	}
	return NULL;
}

/* Device text from a tag, without the padding some cameras add. */
static void set_text_fact(json_t *cand, const char *fact, const char *v)
{
	size_t l;
	if (!v)
		return;
	l = strlen(v);
	while (l && v[l - 1] == ' ')
		l--;
	if (l)
		json_object_set_new(cand, fact, media_str(v, l));
}

static void av_facts(media_ctx *m, const AVFormatContext *fc, int64_t duration)
{
	static const char *const time_keys[] =
		{/* Apple's is the moment capture began, with its time zone;
		 * creation_time is when the muxer wrote the file (UTC). */
		 "com.apple.quicktime.creationdate", "creation_time", NULL};
	static const char *const place_keys[] =
		{"com.apple.quicktime.location.ISO6709", "location",
		 "location-eng", NULL};
	static const char *const make_keys[] = {"com.apple.quicktime.make",
						"com.android.manufacturer",
						"make", NULL};
	static const char *const model_keys[] = {"com.apple.quicktime.model",
						 "com.android.model", "model",
						 NULL};
	static const char *const sw_keys[] = {"com.apple.quicktime.software",
					      "software", "encoder", NULL};
	json_t *cand = media_cand(m, "container");
	json_t *codecs = json_array();
	const AVStream *video = NULL;

	json_object_set_new(cand, "container", json_string(fc->iformat->name));
	if (duration != AV_NOPTS_VALUE && duration > 0)
		json_object_set_new(cand, "duration",
				    json_real((double)duration / AV_TIME_BASE));
	for (unsigned i = 0; i < fc->nb_streams; i++) {
		const AVStream *st = fc->streams[i];
		const char *name = av_codec_name(st->codecpar->codec_id);
		json_array_append_new(codecs,
				      json_string(name ? name : "none"));
		if (!video && st->codecpar->codec_type == AVMEDIA_TYPE_VIDEO &&
		    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC) &&
		    st->codecpar->width > 0 && st->codecpar->height > 0)
			video = st;
	}
	json_object_set_new(cand, "streams", codecs);
	if (video) {
		double deg;
		json_object_set_new(cand, "width",
				    json_integer(video->codecpar->width));
		json_object_set_new(cand, "height",
				    json_integer(video->codecpar->height));
		if (av_rotation(video, &deg)) {
			/* Counter-clockwise in the matrix; clockwise to show. */
			long cw = lround(-deg / 90) * 90 % 360;
			json_object_set_new(cand, "rotation",
					    json_integer(cw < 0 ? cw + 360
								: cw));
		} else {
			json_object_set_new(cand, "rotation", json_integer(0));
		}
	}
	const char *t = av_first_tag(fc, time_keys);
	if (t)
		json_object_set_new(cand, "capture_time", av_str(m, t));
	const char *place = av_first_tag(fc, place_keys);
	json_t *loc = place ? av_iso6709(place) : NULL;
	if (loc)
		json_object_set_new(cand, "location", loc);
	else if (place)
		media_warning(m, "libavformat",
			      "location tag is not an ISO 6709 "
			      "place (or is 0,0: no fix)");
	set_text_fact(cand, "make", av_first_tag(fc, make_keys));
	set_text_fact(cand, "model", av_first_tag(fc, model_keys));
	set_text_fact(cand, "software", av_first_tag(fc, sw_keys));
}

/* --- the parser ----------------------------------------------------------- */

static void av_describe(media_ctx *m, const AVFormatContext *fc,
			const struct av_timing *t)
{
	json_t *c = json_object();

	json_object_set_new(c, "format", json_string(fc->iformat->name));
	if (fc->iformat->long_name)
		json_object_set_new(c, "format_long",
				    json_string(fc->iformat->long_name));
	set_mime(c, m, fc);
	json_object_set_new(c, "probe_score", json_integer(fc->probe_score));
	if (t->duration != AV_NOPTS_VALUE && t->duration >= 0)
		json_object_set_new(c, "duration",
				    json_real((double)t->duration /
					      AV_TIME_BASE));
	if (t->start != AV_NOPTS_VALUE)
		json_object_set_new(c, "start_time",
				    json_real((double)t->start / AV_TIME_BASE));
	if (t->bit_rate > 0)
		json_object_set_new(c, "bit_rate", json_integer(t->bit_rate));
	if (av_dict_count(fc->metadata))
		json_object_set_new(c, "tags", av_tags(m, fc->metadata));
	json_t *streams = json_array();
	for (unsigned i = 0; i < fc->nb_streams; i++)
		json_array_append_new(streams, av_stream(m, fc->streams[i]));
	json_object_set_new(c, "streams", streams);
	if (fc->nb_chapters)
		json_object_set_new(c, "chapters", av_chapters(m, fc));
	json_t *att = av_attachments(m, fc);
	if (json_array_size(att))
		json_object_set_new(c, "attachments", att);
	else
		json_decref(att);
	json_object_set_new(m->doc, "container", c);
	av_facts(m, fc, t->duration);
}

/* What the header promises and the file cannot keep: an audio or video
 * stream with no codec at all (a missing sample description), and sample
 * data the index places past the end of the file (a file cut short: the
 * header is complete, the media is not).  Both are errors of the file, so
 * they go where a parser's errors go.  The index is the demuxer's own
 * (MOV/MP4 sample tables, AVI idx1, Matroska cues): no packet is read. */
static void av_check_integrity(media_ctx *m, const AVFormatContext *fc)
{
	for (unsigned i = 0; i < fc->nb_streams; i++) {
		const AVStream *st = fc->streams[i];
		enum AVMediaType type = st->codecpar->codec_type;
		if ((type == AVMEDIA_TYPE_VIDEO || type == AVMEDIA_TYPE_AUDIO) &&
		    st->codecpar->codec_id == AV_CODEC_ID_NONE &&
		    !(st->disposition & AV_DISPOSITION_ATTACHED_PIC))
			media_error(m, "libavformat", "stream %u (%s) has no known "
				    "codec: its sample description is missing or "
				    "unknown", i, av_get_media_type_string(type));
		int n = avformat_index_get_entries_count(st);
		int64_t end = 0;
		for (int k = 0; k < n; k++) {
			const AVIndexEntry *e = avformat_index_get_entry(
				(AVStream *)st, k);
			if (e && e->pos >= 0 && e->pos + e->size > end)
				end = e->pos + e->size;
		}
		if (end > 0 && (uint64_t)end > m->len)
			media_error(m, "libavformat", "stream %u: its samples run to "
				    "offset %lld, past the end of the file (%zu "
				    "bytes): truncated", i, (long long)end, m->len);
	}
}

int media_av(media_ctx *m)
{
	struct av_file f = {0};
	struct av_timing t;
	char why[AV_ERROR_MAX_STRING_SIZE];
	int opened = 0;

	avlog_begin();
	int rc = av_file_open(&f, m);
	if (rc < 0)
		goto out;
	opened = 1;
	if (av_needs_stream_info(f.fc)) {
		rc = av_stream_info(f.fc);
		if (rc < 0 && rc != AVERROR_EXIT)
			av_log(f.fc, AV_LOG_WARNING,
			       "could not find the streams' parameters: %s\n",
			       av_make_error_string(why, sizeof why, rc));
		t.start = f.fc->start_time;
		t.duration = f.fc->duration;
		t.bit_rate = f.fc->bit_rate;
	} else {
		av_find_start(f.fc);
		av_timing_from_header(f.fc, m->len, &t);
	}
	if (av_interrupt(&f.mem))
		av_log(f.fc, AV_LOG_WARNING,
		       "gave up after %lld s: what it read so far follows\n",
		       AV_TIME_BUDGET / 1000000);
	av_describe(m, f.fc, &t);
	av_check_integrity(m, f.fc);
out:
	avlog_end(m, opened);
	if (!opened) {
		const char *last = avlog_last_error();
		if (rc == AVERROR_EXIT)
			media_error(m, "libavformat", "gave up after %lld s",
				    AV_TIME_BUDGET / 1000000);
		else if (!last)
			media_error(m, "libavformat", "%s",
				    av_make_error_string(why, sizeof why, rc));
		/* else the last logged error, already in the list, says why */
	}
	av_file_close(&f);
	return opened;
}

/* --- for thumbs.c ----------------------------------------------------------- */

/* The same opening, log capture and stream-info rule for the thumbnails
 * (thumbs.c), so that libavformat meets a file in one way only: from
 * memory, never another file or URL, within a time budget. */
struct media_av_file {
	struct av_file f;
};

void media_avlog_begin(void)
{
	avlog_begin();
}

void media_avlog_end(media_ctx *m, int opened)
{
	avlog_end(m, opened);
}

int media_av_open(const media_ctx *m, int64_t budget_us, media_av_file **out,
		  AVFormatContext **fc)
{
	media_av_file *f = av_mallocz(sizeof *f);
	*out = f;
	if (!f)
		return AVERROR(ENOMEM);
	int rc = av_file_open(&f->f, m);
	/* The header had av.c's budget; what follows has the caller's. */
	f->f.mem.deadline = av_gettime_relative() + budget_us;
	*fc = rc < 0 ? NULL : f->f.fc;
	return rc;
}

int media_av_find_streams(AVFormatContext *fc)
{
	return av_needs_stream_info(fc) ? av_stream_info(fc) : 0;
}

void media_av_close(media_av_file *f)
{
	if (!f)
		return;
	av_file_close(&f->f);
	av_free(f);
}
