/*
 * pipeline.c: two stages over the machine's two cores.  The calling
 * thread fills buffers (reading and hashing, or reading and decrypting)
 * while one worker thread drains them in order (encrypting and writing,
 * or hashing and writing).  A fixed ring of buffers bounds memory, so a
 * 100 GiB video costs no more than a photo.
 */
#include <pthread.h>
#include <stdlib.h>

#include "vault/internal.h"

struct vpipe {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	pthread_t worker;
	vpipe_buf *bufs;
	size_t nbufs;
	size_t head;   /* next buffer the producer fills */
	size_t tail;   /* next buffer the consumer drains */
	size_t queued; /* filled, not yet drained */
	size_t held;   /* handed to the producer, not yet put */
	int done;      /* producer finished */
	int joined;    /* worker thread joined */
	int result;    /* first non-zero consumer result */
	vpipe_consume_fn fn;
	void *ctx;
};

static void *worker_main(void *arg)
{
	vpipe *p = arg;
	pthread_mutex_lock(&p->mu);
	for (;;) {
		while (p->queued == 0 && !p->done)
			pthread_cond_wait(&p->cv, &p->mu);
		if (p->queued == 0)
			break;
		vpipe_buf *b = &p->bufs[p->tail];
		pthread_mutex_unlock(&p->mu);
		int r = p->result ? p->result : p->fn(p->ctx, b);
		pthread_mutex_lock(&p->mu);
		if (r && !p->result)
			p->result = r;
		p->tail = (p->tail + 1) % p->nbufs;
		p->queued--;
		pthread_cond_broadcast(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

vpipe *vpipe_new(size_t nbufs, size_t bufsize, vpipe_consume_fn fn, void *ctx)
{
	vpipe *p = calloc(1, sizeof *p);
	if (!p)
		return NULL;
	p->bufs = calloc(nbufs, sizeof *p->bufs);
	if (!p->bufs)
		goto fail;
	p->nbufs = nbufs;
	for (size_t i = 0; i < nbufs; i++) {
		p->bufs[i].data = util_page_alloc(bufsize);
		if (!p->bufs[i].data)
			goto fail;
		p->bufs[i].cap = bufsize;
	}
	p->fn = fn;
	p->ctx = ctx;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	if (pthread_create(&p->worker, NULL, worker_main, p) != 0) {
		pthread_mutex_destroy(&p->mu);
		pthread_cond_destroy(&p->cv);
		goto fail;
	}
	return p;
fail:
	if (p->bufs)
		for (size_t i = 0; i < nbufs; i++)
			free(p->bufs[i].data);
	free(p->bufs);
	free(p);
	return NULL;
}

vpipe_buf *vpipe_get(vpipe *p)
{
	vpipe_buf *b = NULL;
	pthread_mutex_lock(&p->mu);
	while (p->queued + p->held == p->nbufs && !p->result)
		pthread_cond_wait(&p->cv, &p->mu);
	if (!p->result) {
		b = &p->bufs[(p->head + p->held) % p->nbufs];
		b->len = 0;
		p->held++;
	}
	pthread_mutex_unlock(&p->mu);
	return b;
}

void vpipe_put(vpipe *p, vpipe_buf *b)
{
	(void)b; /* buffers are put in the order they were got */
	pthread_mutex_lock(&p->mu);
	p->held--;
	p->head = (p->head + 1) % p->nbufs;
	p->queued++;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
}

int vpipe_finish(vpipe *p)
{
	if (p->joined)
		return p->result;
	pthread_mutex_lock(&p->mu);
	p->done = 1;
	pthread_cond_broadcast(&p->cv);
	pthread_mutex_unlock(&p->mu);
	pthread_join(p->worker, NULL);
	p->joined = 1;
	return p->result;
}

void vpipe_free(vpipe *p)
{
	if (!p)
		return;
	vpipe_finish(p);
	pthread_mutex_destroy(&p->mu);
	pthread_cond_destroy(&p->cv);
	for (size_t i = 0; i < p->nbufs; i++)
		free(p->bufs[i].data);
	free(p->bufs);
	free(p);
}
