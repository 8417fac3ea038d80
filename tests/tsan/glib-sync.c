/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * LD_PRELOADed by the ThreadSanitizer stage (tools/run-tests). GLib implements GMutex and
 * GCond on Linux with its own atomics and futex(2) calls, which TSan (GLib is not
 * instrumented) cannot see: every structure our code guards with a GMutex would then be
 * reported as racing. These wrappers call GLib's functions and tell TSan what they mean
 * (acquire on lock, release on unlock), exactly as TSan's own pthread interceptors do, so
 * a missing lock in our code is still reported and a real one is not hidden.
 *
 * Built without instrumentation, and the TSan entry points are weak: processes that are
 * not TSan builds (sh, ip, unshare run by the integration tests) get plain pass-throughs.
 */
#include <dlfcn.h>
#include <glib.h>
#include <stdlib.h>

void __tsan_acquire(void *addr) __attribute__((weak));
void __tsan_release(void *addr) __attribute__((weak));

static void *real(const char *name)
{
	void *fn = dlsym(RTLD_NEXT, name);

	if (!fn)
		abort(); /* only reached from a process that calls GLib: it has the symbol */
	return fn;
}

static void acquire(void *addr)
{
	if (__tsan_acquire)
		__tsan_acquire(addr);
}

static void release(void *addr)
{
	if (__tsan_release)
		__tsan_release(addr);
}

/* GLib's own function of that name, looked up once (glib.h declares its type). */
#define REAL(name)                                                                                 \
	static __typeof__(name) *real_##name;                                                      \
	real_##name = real_##name ? real_##name : (__typeof__(name) *)real(#name)

void g_mutex_lock(GMutex *m)
{
	REAL(g_mutex_lock);
	real_g_mutex_lock(m);
	acquire(m);
}

gboolean g_mutex_trylock(GMutex *m)
{
	REAL(g_mutex_trylock);
	if (!real_g_mutex_trylock(m))
		return FALSE;
	acquire(m);
	return TRUE;
}

void g_mutex_unlock(GMutex *m)
{
	REAL(g_mutex_unlock);
	release(m);
	real_g_mutex_unlock(m);
}

/* Waiting unlocks the mutex and locks it again before returning. */
void g_cond_wait(GCond *c, GMutex *m)
{
	REAL(g_cond_wait);
	release(m);
	real_g_cond_wait(c, m);
	acquire(m);
}

gboolean g_cond_wait_until(GCond *c, GMutex *m, gint64 end_time)
{
	gboolean r;

	REAL(g_cond_wait_until);
	release(m);
	r = real_g_cond_wait_until(c, m, end_time);
	acquire(m);
	return r;
}

void g_rec_mutex_lock(GRecMutex *m)
{
	REAL(g_rec_mutex_lock);
	real_g_rec_mutex_lock(m);
	acquire(m);
}

gboolean g_rec_mutex_trylock(GRecMutex *m)
{
	REAL(g_rec_mutex_trylock);
	if (!real_g_rec_mutex_trylock(m))
		return FALSE;
	acquire(m);
	return TRUE;
}

void g_rec_mutex_unlock(GRecMutex *m)
{
	REAL(g_rec_mutex_unlock);
	release(m);
	real_g_rec_mutex_unlock(m);
}

void g_rw_lock_writer_lock(GRWLock *l)
{
	REAL(g_rw_lock_writer_lock);
	real_g_rw_lock_writer_lock(l);
	acquire(l);
}

void g_rw_lock_writer_unlock(GRWLock *l)
{
	REAL(g_rw_lock_writer_unlock);
	release(l);
	real_g_rw_lock_writer_unlock(l);
}

void g_rw_lock_reader_lock(GRWLock *l)
{
	REAL(g_rw_lock_reader_lock);
	real_g_rw_lock_reader_lock(l);
	acquire(l);
}

void g_rw_lock_reader_unlock(GRWLock *l)
{
	REAL(g_rw_lock_reader_unlock);
	release(l);
	real_g_rw_lock_reader_unlock(l);
}

/*
 * g_main_context_invoke*() from another thread queues the call under the context's lock
 * (GLib-internal, so invisible even with the wrappers above): what the caller wrote before
 * happens before the call runs. A trampoline says so to TSan: release when queued,
 * acquire when run and when freed.
 */
struct invoke_call {
	GSourceFunc fn;
	gpointer data;
	GDestroyNotify notify;
};

static gboolean invoke_run(gpointer p)
{
	struct invoke_call *c = p;
	gboolean r;

	acquire(c);
	r = c->fn(c->data);
	release(c);
	return r;
}

static void invoke_free(gpointer p)
{
	struct invoke_call *c = p;

	acquire(c);
	if (c->notify)
		c->notify(c->data);
	g_free(c);
}

void g_main_context_invoke_full(GMainContext *ctx, gint priority, GSourceFunc fn, gpointer data,
				GDestroyNotify notify)
{
	struct invoke_call *c = g_new(struct invoke_call, 1);

	REAL(g_main_context_invoke_full);
	*c = (struct invoke_call){ .fn = fn, .data = data, .notify = notify };
	release(c);
	real_g_main_context_invoke_full(ctx, priority, invoke_run, c, invoke_free);
}

void g_main_context_invoke(GMainContext *ctx, GSourceFunc fn, gpointer data)
{
	g_main_context_invoke_full(ctx, G_PRIORITY_DEFAULT, fn, data, NULL);
}
