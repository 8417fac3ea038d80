/* SPDX-License-Identifier: GPL-3.0-or-later */
/*
 * camgate under a fake systemd: NOTIFY_SOCKET points at our datagram socket and
 * WATCHDOG_USEC asks for a 1 s watchdog. Checks READY (only once HTTP answers), STATUS,
 * regular WATCHDOG, RELOADING/READY on SIGHUP, that WATCHDOG stops while the media thread
 * is stuck (CAMGATE_TEST_STALL=1 lets SIGUSR2 park the thread it is sent to), and
 * STOPPING plus a clean exit on SIGTERM.
 *
 * usage: test-notify --tap CAMGATE   (run inside run-in-netns.sh: it listens on 127.0.0.1)
 */
#include <dirent.h>
#include <errno.h>
#include <glib-unix.h>
#include <glib.h>
#include <glib/gstdio.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#define PORT "18090"
/* main.c stops feeding once the heartbeat is older than max(WATCHDOG_USEC/2, 2 s). */
#define STARVE_LIMIT_US (2 * G_USEC_PER_SEC)

static const char *camgate_path;

struct fixture {
	char *dir;
	char *sock_path;
	int sock;
	GPid pid;
	int exit_status;
	bool exited;
	GMainLoop *loop;
	GPtrArray *messages; /* "t_usec STATE" strings, in arrival order */
	const char *waiting_for;
	bool found;
};

static gboolean on_datagram(gint fd, GIOCondition cond, gpointer userdata)
{
	struct fixture *f = userdata;
	char buf[4096];
	ssize_t n = recv(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return G_SOURCE_CONTINUE;
	buf[n] = '\0';
	g_ptr_array_add(f->messages,
			g_strdup_printf("%" G_GINT64_FORMAT " %s", g_get_monotonic_time(), buf));
	if (f->waiting_for && strstr(buf, f->waiting_for)) {
		f->found = true;
		g_main_loop_quit(f->loop);
	}
	return G_SOURCE_CONTINUE;
}

static void on_exit_cb(GPid pid, gint status, gpointer userdata)
{
	struct fixture *f = userdata;

	f->exited = true;
	f->exit_status = status;
	g_spawn_close_pid(pid);
	g_main_loop_quit(f->loop);
}

static gboolean on_timeout(gpointer userdata)
{
	g_main_loop_quit(userdata);
	return G_SOURCE_REMOVE;
}

/* Runs the loop until a datagram containing what arrives, or timeout_ms passes. */
static bool wait_for(struct fixture *f, const char *what, guint timeout_ms)
{
	guint t = g_timeout_add(timeout_ms, on_timeout, f->loop);

	f->waiting_for = what;
	f->found = false;
	g_main_loop_run(f->loop);
	if (f->found) /* else the timeout fired and removed itself */
		g_source_remove(t);
	f->waiting_for = NULL;
	return f->found;
}

/* Lets datagrams arrive for ms milliseconds. */
static void collect(struct fixture *f, guint ms)
{
	g_timeout_add(ms, on_timeout, f->loop);
	g_main_loop_run(f->loop);
}

static void fixture_start(struct fixture *f)
{
	struct sockaddr_un addr = {.sun_family = AF_UNIX};
	char *envp_notify, *argv[] = {(char *)camgate_path, "--listen=127.0.0.1:" PORT,
				      "--size=320x240", "--fps=15", "--log-level=notice", NULL};
	char **envp = g_get_environ();
	GError *error = NULL;

	f->dir = g_dir_make_tmp("camgate-notify-XXXXXX", NULL);
	f->sock_path = g_build_filename(f->dir, "notify", NULL);
	f->sock = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	g_assert_cmpint(f->sock, >=, 0);
	g_strlcpy(addr.sun_path, f->sock_path, sizeof(addr.sun_path));
	g_assert_cmpint(bind(f->sock, (struct sockaddr *)&addr, sizeof(addr)), ==, 0);
	envp_notify = g_strdup(f->sock_path);
	envp = g_environ_setenv(envp, "NOTIFY_SOCKET", envp_notify, TRUE);
	envp = g_environ_setenv(envp, "WATCHDOG_USEC", "1000000", TRUE);
	envp = g_environ_setenv(envp, "CAMGATE_TEST_STALL", "1", TRUE);
	envp = g_environ_unsetenv(envp, "WATCHDOG_PID");
	f->loop = g_main_loop_new(NULL, FALSE);
	f->messages = g_ptr_array_new_with_free_func(g_free);
	g_unix_fd_add(f->sock, G_IO_IN, on_datagram, f);
	g_assert_true(g_spawn_async(NULL, argv, envp,
				    G_SPAWN_DO_NOT_REAP_CHILD | G_SPAWN_STDOUT_TO_DEV_NULL, NULL, NULL,
				    &f->pid, &error));
	g_child_watch_add(f->pid, on_exit_cb, f);
	g_strfreev(envp);
	g_free(envp_notify);
}

static void fixture_stop(struct fixture *f)
{
	if (!f->exited) {
		kill(f->pid, SIGKILL);
		while (!f->exited)
			g_main_context_iteration(NULL, TRUE);
	}
	close(f->sock);
	g_unlink(f->sock_path);
	g_rmdir(f->dir);
	g_free(f->sock_path);
	g_free(f->dir);
	g_ptr_array_unref(f->messages);
	g_main_loop_unref(f->loop);
}

static bool http_answers(void)
{
	char *out = NULL;
	gint status = -1;
	char *argv[] = {"curl", "-sf", "-o", "/dev/null", "http://127.0.0.1:" PORT "/status",
			NULL};

	if (!g_spawn_sync(NULL, argv, NULL, G_SPAWN_SEARCH_PATH | G_SPAWN_STDERR_TO_DEV_NULL,
			  NULL, NULL, &out, NULL, &status, NULL))
		return false;
	g_free(out);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* The media thread's id: it names itself "cg-media" (media.c). */
static pid_t media_tid(GPid pid)
{
	char *dir = g_strdup_printf("/proc/%d/task", pid);
	DIR *d = opendir(dir);
	struct dirent *e;
	pid_t tid = 0;

	while (d && (e = readdir(d)) && !tid) {
		char *path = g_strdup_printf("%s/%s/comm", dir, e->d_name);
		char *comm = NULL;

		if (e->d_name[0] != '.' && g_file_get_contents(path, &comm, NULL, NULL) &&
		    g_str_has_prefix(comm, "cg-media"))
			tid = (pid_t)atoi(e->d_name);
		g_free(comm);
		g_free(path);
	}
	if (d)
		closedir(d);
	g_free(dir);
	return tid;
}

static unsigned count_since(struct fixture *f, const char *what, gint64 since)
{
	unsigned n = 0;

	for (guint i = 0; i < f->messages->len; i++) {
		const char *m = f->messages->pdata[i];
		gint64 t = g_ascii_strtoll(m, NULL, 10);

		if (t >= since && strstr(m, what))
			n++;
	}
	return n;
}

static void test_lifecycle(void)
{
	struct fixture f = {0};
	gint64 t, stalled;
	pid_t tid;

	fixture_start(&f);
	g_assert_true(wait_for(&f, "READY=1", 20000));
	/* READY means HTTP listens: a request made right now is answered. */
	g_assert_true(http_answers());
	t = g_get_monotonic_time();
	collect(&f, 2500);
	g_assert_cmpuint(count_since(&f, "STATUS=streaming test 320x240@15", 0), >=, 1);
	g_assert_cmpuint(count_since(&f, "0 viewers", 0), >=, 1);
	g_assert_cmpuint(count_since(&f, "WATCHDOG=1", t), >=, 4);

	kill(f.pid, SIGHUP);
	g_assert_true(wait_for(&f, "RELOADING=1", 5000));
	g_assert_true(wait_for(&f, "READY=1", 5000));

	tid = media_tid(f.pid);
	g_assert_cmpint(tid, >, 0);
	g_assert_cmpint(syscall(SYS_tgkill, f.pid, tid, SIGUSR2), ==, 0);
	stalled = g_get_monotonic_time();
	collect(&f, 4500);
	/* Fed until the heartbeat is STARVE_LIMIT old, then never while the thread is stuck;
	 * the control thread itself is alive (it still answers HTTP). */
	g_assert_cmpuint(count_since(&f, "WATCHDOG=1", stalled + STARVE_LIMIT_US + 500000), ==,
			 0);
	g_assert_true(http_answers());

	kill(f.pid, SIGTERM);
	g_assert_true(wait_for(&f, "STOPPING=1", 10000));
	while (!f.exited)
		g_main_context_iteration(NULL, TRUE);
	g_assert_true(WIFEXITED(f.exit_status));
	g_assert_cmpint(WEXITSTATUS(f.exit_status), ==, 0);
	fixture_stop(&f);
}

int main(int argc, char **argv)
{
	g_test_init(&argc, &argv, NULL);
	if (argc < 2) {
		fprintf(stderr, "usage: %s [--tap] CAMGATE\n", argv[0]);
		return 2;
	}
	camgate_path = argv[1];
	g_test_add_func("/notify/lifecycle", test_lifecycle);
	return g_test_run();
}
