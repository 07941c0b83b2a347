/* SPDX-License-Identifier: GPL-2.0-only */
/* manager.c - daemon start-up (probe, discover, load, attach), event loop, shutdown */
#include <errno.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <limits.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <systemd/sd-daemon.h>

#include "groups.h"
#include "kernel_btf.h"
#include "log.h"
#include "netns_names.h"
#include "nft_trace.h"
#include "skbt_regex.h"
#include "skbtraced.h"
#include "util.h"

#define TRACEFS_DIR "/sys/kernel/tracing"
#define LOSS_POLL_USEC (250 * 1000ULL)

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
        char buf[1024];
        size_t n;

        if (level == LIBBPF_DEBUG && log_get_max_level() < LOG_DEBUG)
                return 0;
        vsnprintf(buf, sizeof(buf), fmt, ap);
        n = strlen(buf);
        if (n && buf[n - 1] == '\n')
                buf[n - 1] = '\0';
        log_full_errno(level == LIBBPF_WARN ? LOG_WARNING : LOG_DEBUG, 0, "libbpf: %s", buf);
        return 0;
}

/* BPF memory is charged to the memory cgroup on 5.11+; the rlimit only matters
 * on older kernels, and raising it needs CAP_SYS_RESOURCE. */
static void raise_memlock(void)
{
        struct rlimit rl = {RLIM_INFINITY, RLIM_INFINITY};

        if (setrlimit(RLIMIT_MEMLOCK, &rl) < 0)
                log_warning_errno(errno, "cannot raise RLIMIT_MEMLOCK (%m); BPF memory is "
                                         "accounted to the memory cgroup on Linux 5.11+, "
                                         "ignoring");
}

/*
 * Every attached probe holds file descriptors (a link; kprobes a perf event
 * too): thousands of them with a function backend, far past the usual soft
 * limit of 1024.  Raise the soft limit to the hard one, and the hard one as
 * far as the kernel allows when we may.
 */
static void raise_nofile(void)
{
        struct rlimit rl;
        unsigned long nr_open = 0;
        FILE *f;

        if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
                return;
        f = fopen("/proc/sys/fs/nr_open", "re");
        if (f) {
                if (fscanf(f, "%lu", &nr_open) != 1)
                        nr_open = 0;
                fclose(f);
        }
        if (nr_open > rl.rlim_max) {
                struct rlimit want = {nr_open, nr_open};

                if (setrlimit(RLIMIT_NOFILE, &want) == 0)
                        return;
        }
        rl.rlim_cur = rl.rlim_max;
        if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
                log_warning_errno(errno, "cannot raise RLIMIT_NOFILE (%m); with thousands of "
                                         "probes, attaching may fail with EMFILE, ignoring");
        else if (rl.rlim_max < 16384)
                log_warning("open file limit is %lu: with a function backend some probes may "
                            "not attach (each needs one or two descriptors)",
                            (unsigned long)rl.rlim_max);
}

/* Tracepoint system names ("skb:" in "skb:kfree_skb") come from tracefs. */
static void fill_tracepoint_systems(struct skbtraced *d)
{
        int r = skbt_symdb_fill_systems(&d->symdb, TRACEFS_DIR);

        if (r == -ENOENT) {
                if (mount("tracefs", TRACEFS_DIR, "tracefs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                          NULL) == 0)
                        log_info("mounted tracefs on %s to name tracepoints", TRACEFS_DIR);
                r = skbt_symdb_fill_systems(&d->symdb, TRACEFS_DIR);
        }
        if (r < 0)
                log_warning_errno(r,
                                  "cannot read tracepoint systems from %s (%m); tracepoints "
                                  "are named tp:NAME, ignoring",
                                  TRACEFS_DIR);
}

/*
 * Modules loaded now (veth, bridge, nf_* ...) have their own split BTF next
 * to vmlinux's.  Modules loaded later are not seen until a restart.
 */
struct module_scan {
        struct skbt_symdb *db;
        unsigned n_mod;
};

static void scan_module(const struct btf *btf, const char *module, void *data)
{
        struct module_scan *m = data;
        int r = skbt_symdb_scan_btf(m->db, btf, module);

        if (r < 0)
                log_debug_errno(r, "cannot scan BTF of module %s, ignoring: %m", module);
        else
                m->n_mod++;
}

static void discover_modules(struct skbtraced *d, struct btf *vmlinux)
{
        struct module_scan m = {.db = &d->symdb};
        size_t before = d->symdb.n_syms;

        skbt_btf_foreach_module(vmlinux, NULL, scan_module, &m);
        log_info("%u modules with BTF: %zu skb functions and tracepoints in them", m.n_mod,
                 d->symdb.n_syms - before);
}

static int discover(struct skbtraced *d)
{
        struct btf *btf;
        int r;

        btf = skbt_kernel_btf();
        if (!btf)
                return log_error_errno(-ENOENT, "skbtraced needs kernel BTF: a kernel built with "
                                                "CONFIG_DEBUG_INFO_BTF=y");
        r = skbt_symdb_scan_btf(&d->symdb, btf, NULL);
        if (r < 0)
                return log_error_errno(r, "cannot scan kernel BTF: %m");
        r = skbt_drop_reasons_load(btf, &d->drop_reasons, &d->n_drop_reasons);
        if (r < 0)
                log_warning_errno(r, "kernel BTF has no enum skb_drop_reason (%m); drop reasons "
                                     "are shown as numbers, ignoring");
        discover_modules(d, btf);
        skbt_symdb_sort(&d->symdb);
        fill_tracepoint_systems(d);

        r = skbt_ksyms_load("/proc/kallsyms", &d->ksyms);
        if (r < 0)
                log_warning_errno(r, "cannot read /proc/kallsyms (%m); drop locations are shown "
                                     "as addresses, ignoring");
        return 0;
}

static int choose_backend(struct skbtraced *d)
{
        enum skbt_backend want = d->opt.backend;
        size_t off = 0;

        if (want != SKBT_BACKEND_AUTO) {
                if (!d->caps.usable[want])
                        return log_error_errno(-EOPNOTSUPP,
                                               "backend %s cannot work on this kernel: %s; use "
                                               "--backend auto to pick one that works",
                                               skbt_backend_to_string(want), d->caps.reason[want]);
                d->backend = want;
                snprintf(d->backend_reason, sizeof(d->backend_reason), "forced by --backend %s",
                         skbt_backend_to_string(want));
                return 0;
        }
        /*
         * Prefer the function backend that attaches fastest: kprobe-multi
         * (one link per skb position), then fentry (one program per function,
         * but cheap per hit), then kprobe (one link per function).  Tracepoints
         * are attached in every case; alone they are the fallback.
         */
        static const enum skbt_backend order[] = {SKBT_BACKEND_KPROBE_MULTI, SKBT_BACKEND_FENTRY,
                                                  SKBT_BACKEND_KPROBE, SKBT_BACKEND_TRACEPOINT};

        d->backend = SKBT_BACKEND_TRACEPOINT;
        for (size_t i = 0; i < ARRAY_SIZE(order); i++)
                if (d->caps.usable[order[i]]) {
                        d->backend = order[i];
                        break;
                }
        for (size_t i = 0; i < ARRAY_SIZE(order); i++) {
                enum skbt_backend b = order[i];

                off += (size_t)snprintf(d->backend_reason + MIN(off, sizeof(d->backend_reason) - 1),
                                        sizeof(d->backend_reason) -
                                            MIN(off, sizeof(d->backend_reason) - 1),
                                        "%s%s: %s", i ? "; " : "", skbt_backend_to_string(b),
                                        d->caps.usable[b] ? (b == d->backend ? "chosen" : "usable")
                                                          : d->caps.reason[b]);
        }
        if (!d->caps.usable[SKBT_BACKEND_TRACEPOINT])
                return log_error_errno(-EOPNOTSUPP, "no usable backend on this kernel: %s",
                                       d->backend_reason);
        return 0;
}

static int symbolize_cb(void *data, uint64_t addr, char *buf, size_t len)
{
        return data ? skbt_ksyms_symbolize(data, addr, buf, len) : -ENOENT;
}

/*
 * Called for every event rendered, with the event's time for the table's
 * once-a-second recheck: no clock read per event (one cost some 30 ns of the
 * ~400 ns per event, docs/performance.md, "Regression check against f8ce747").
 */
static const char *netns_name_cb(void *data, uint32_t inode, uint64_t ts)
{
        return skbt_netns_names_lookup(data, inode, ts);
}

/* Names of namespaces as ip netns makes them; only those on nsfs (bind mounts) count. */
static void netns_names_setup(struct skbtraced *d)
{
        struct stat st;

        if (stat("/proc/self/ns/net", &st) < 0 ||
            skbt_netns_names_new("/run/netns", st.st_dev, &d->netns_names) < 0)
                log_warning("cannot set up network namespace names, ignoring: events show inode "
                            "numbers only");
}

/* Records the BPF side submits without waking us (bpf/skbt_body.bpf.h) wait at most this long. */
#define RB_POLL_USEC (10 * 1000ULL)

static void consume_ringbuf(struct skbtraced *d)
{
        int r;

        d->batch_records = 0;
        r = ring_buffer__consume(d->rb);
        if (r < 0 && r != SKBT_BATCH_FULL)
                log_warning_errno(r, "ring buffer consume failed, ignoring: %m");
        skbt_sessions_after_batch(d);
}

static int on_rb_poll(sd_event_source *es, uint64_t usec, void *userdata)
{
        struct skbtraced *d = userdata;

        consume_ringbuf(d);
        /* Only while sessions are live: an idle daemon sleeps. */
        if (d->n_sessions > 0) {
                sd_event_source_set_time_relative(es, RB_POLL_USEC);
                sd_event_source_set_enabled(es, SD_EVENT_ONESHOT);
        }
        return 0;
}

static int on_ringbuf(sd_event_source *es, int fd, uint32_t revents, void *userdata)
{
        struct skbtraced *d = userdata;
        int enabled = SD_EVENT_OFF;

        consume_ringbuf(d);
        sd_event_source_get_enabled(d->rb_poll, &enabled);
        if (enabled == SD_EVENT_OFF) {
                sd_event_source_set_time_relative(d->rb_poll, RB_POLL_USEC);
                sd_event_source_set_enabled(d->rb_poll, SD_EVENT_ONESHOT);
        }
        return 0;
}

static int on_loss_timer(sd_event_source *es, uint64_t usec, void *userdata)
{
        struct skbtraced *d = userdata;

        /* The miss counters take a syscall per program: read them less often, and only
         * while someone can have lost events. */
        if (d->n_sessions && ++d->loss_ticks % SKBT_MISS_POLL_TICKS == 0)
                skbt_sessions_poll_missed(d);
        skbt_sessions_poll_lost(d);
        sd_event_source_set_time_relative(es, LOSS_POLL_USEC);
        sd_event_source_set_enabled(es, SD_EVENT_ON);
        return 0;
}

static int on_signal(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata)
{
        struct skbtraced *d = userdata;

        log_info("received %s, shutting down", strsignal((int)si->ssi_signo));
        d->shutting_down = true;
        sd_event_exit(d->event, 0);
        return 0;
}

static int on_sighup(sd_event_source *es, const struct signalfd_siginfo *si, void *userdata)
{
        skbt_daemon_reload(userdata);
        return 0;
}

/*
 * The event loop and its signals.  The signals are blocked first (sd-event
 * reads them from a signalfd); a handler that cannot be added must fail the
 * start: a daemon with SIGTERM blocked and unhandled could not be stopped.
 */
static int setup_event_loop(struct skbtraced *d)
{
        static const int signals[] = {SIGTERM, SIGINT, SIGHUP};
        sigset_t ss;
        int r;

        r = sd_event_new(&d->event);
        if (r < 0)
                return log_error_errno(r, "cannot create event loop: %m");
        sigemptyset(&ss);
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++)
                sigaddset(&ss, signals[i]);
        if (sigprocmask(SIG_BLOCK, &ss, NULL) < 0)
                return log_error_errno(negative_errno(), "cannot block signals: %m");
        signal(SIGPIPE, SIG_IGN);
        for (size_t i = 0; i < ARRAY_SIZE(signals); i++) {
                r = sd_event_add_signal(d->event, NULL, signals[i],
                                        signals[i] == SIGHUP ? on_sighup : on_signal, d);
                if (r < 0)
                        return log_error_errno(r, "cannot handle signal %s: %m",
                                               strsignal(signals[i]));
        }
        /* Pings systemd's watchdog when the unit sets WatchdogSec=; no-op otherwise. */
        r = sd_event_set_watchdog(d->event, true);
        if (r < 0)
                log_warning_errno(r, "cannot arm the systemd watchdog (%m), ignoring");
        return 0;
}

/* The probes: --probes, then the loader (programs loaded, probes attached). */
static int load_probes(struct skbtraced *d)
{
        struct skbt_loader_opts lo = {
            .backend = d->backend,
            .ringbuf_bytes = d->opt.ringbuf_bytes,
            .returns = !d->opt.no_returns,
            .threads = (int)MIN(MAX(sysconf(_SC_NPROCESSORS_ONLN), 1), 8),
            .bpf_progs = d->caps.usable[SKBT_BACKEND_FENTRY],
            .bpf_progs_why = d->caps.reason[SKBT_BACKEND_FENTRY],
        };
        char buf[512];
        int r;

        if (d->opt.probes) {
                r = skbt_regex_new(d->opt.probes, &d->probe_re, buf, sizeof(buf));
                if (r < 0)
                        return log_error_errno(r, "--probes: %s", buf);
        }
        lo.probe_regex = d->probe_re;
        return skbt_loader_new(&d->symdb, d->ksyms, &lo, &d->loader);
}

/* The names the renderers look up: probes, drop reasons, symbols, namespaces. */
static int setup_names(struct skbtraced *d)
{
        /* Room for the whole table: tc and XDP programs join it later (reload.c). */
        d->probe_names = calloc(SKBT_MAX_PROBES, sizeof(*d->probe_names));
        if (!d->probe_names)
                return log_error_errno(-ENOMEM, "out of memory");
        for (uint32_t i = 0; i < d->loader->n_probes; i++)
                d->probe_names[i] = d->loader->probes[i].name;
        d->names = (struct skbt_names){
            .probes = d->probe_names,
            .n_probes = d->loader->n_probes,
            .drop_reasons = (const char *const *)d->drop_reasons,
            .n_drop_reasons = d->n_drop_reasons,
            .symbolize = symbolize_cb,
            .symbolize_data = d->ksyms,
        };
        netns_names_setup(d);
        if (d->netns_names) {
                d->names.netns_name = netns_name_cb;
                d->names.netns_name_data = d->netns_names;
        }
        return 0;
}

/* The ring buffer, its event source, and the timers that poll it and the losses. */
static int setup_ring_buffer(struct skbtraced *d)
{
        int r;

        d->rb = ring_buffer__new(d->loader->ringbuf_fd, skbt_ringbuf_event, d, NULL);
        if (!d->rb)
                return log_error_errno(negative_errno(), "cannot map the ring buffer: %m");
        r = sd_event_add_io(d->event, &d->rb_io, ring_buffer__epoll_fd(d->rb), EPOLLIN, on_ringbuf,
                            d);
        if (r < 0)
                return log_error_errno(r, "cannot watch the ring buffer: %m");
        /*
         * Same priority as client I/O, timers and signals: sd-event always
         * dispatches the highest-priority pending source, so a ring buffer that
         * never runs dry under a flood would starve disconnects, stop requests
         * and SIGTERM.  Equal priorities are served in turn.
         */
        sd_event_source_set_priority(d->rb_io, SD_EVENT_PRIORITY_NORMAL);
        r = sd_event_add_time_relative(d->event, &d->rb_poll, CLOCK_MONOTONIC, RB_POLL_USEC, 1000,
                                       on_rb_poll, d);
        if (r < 0)
                return log_error_errno(r, "cannot arm the ring buffer poll timer: %m");
        sd_event_source_set_enabled(d->rb_poll, SD_EVENT_OFF);
        r = sd_event_add_time_relative(d->event, &d->loss_timer, CLOCK_MONOTONIC, LOSS_POLL_USEC,
                                       10000, on_loss_timer, d);
        if (r < 0)
                return log_error_errno(r, "cannot arm the loss timer: %m");
        return 0;
}

int skbtraced_new(const struct skbt_options *opt, struct skbtraced **ret)
{
        struct skbtraced *d;
        struct utsname un;
        uint64_t t0 = skbt_now_ns();
        int r;

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->opt = *opt;
        d->listen_fd = -1;
        d->nft_trace_fd = -1;
        d->start_mono_ns = t0;
        if (uname(&un) == 0)
                snprintf(d->kernel, sizeof(d->kernel), "%s %s", un.release, un.machine);

        libbpf_set_print(libbpf_log);
        raise_memlock();
        raise_nofile();

        r = skbt_kaddr_key_init(&d->kaddr_key);
        if (r < 0) {
                log_error_errno(r, "cannot draw a random key to hide kernel addresses: %m");
                goto fail;
        }
        r = setup_event_loop(d);
        if (r < 0)
                goto fail;
        skbt_caps_probe(&d->caps);
        d->startup_phase_ns[0] = skbt_now_ns() - t0;
        r = choose_backend(d);
        if (r < 0)
                goto fail;
        log_info("backend %s chosen: %s", skbt_backend_to_string(d->backend), d->backend_reason);
        r = discover(d);
        if (r < 0)
                goto fail;
        d->startup_phase_ns[1] = skbt_now_ns() - t0;
        if ((r = load_probes(d)) < 0 || (r = setup_names(d)) < 0)
                goto fail;
        d->startup_phase_ns[2] = skbt_now_ns() - t0;
        skbt_daemon_load_groups(d);
        r = setup_ring_buffer(d);
        if (r < 0)
                goto fail;
        d->idle.coverage_changed = skbt_sessions_coverage;
        /* Started idle: the tracepoint links go after the linger unless a session comes. */
        r = skbt_idle_init(d);
        if (r < 0)
                goto fail;
        r = skbt_control_listen(d);
        if (r < 0)
                goto fail;
        /* Start-up is done with kernel BTF: an idle daemon does not keep its 6 MB
         * (the first custom-field request parses it again).  Nor the heap start-up
         * freed, which glibc keeps unless asked (15 MiB of RSS on the 6.18 host). */
        skbt_kernel_btf_release();
        malloc_trim(0);
        d->startup_ns = skbt_now_ns() - t0;
        *ret = d;
        return 0;
fail:
        skbtraced_free(d);
        return r;
}

int skbtraced_run(struct skbtraced *d)
{
        int r;

        sd_notifyf(0, "READY=1\nSTATUS=backend %s, %u probes usable, %u skipped",
                   skbt_backend_to_string(d->backend), d->loader->n_attached, d->loader->n_skipped);
        log_info("ready in %.0f ms: backend %s, %u probes usable (attached while sessions "
                 "need them), %u skipped",
                 (double)d->startup_ns / 1e6, skbt_backend_to_string(d->backend),
                 d->loader->n_attached, d->loader->n_skipped);
        /* Where start-up went (docs/performance.md): each phase's share of startup_ns. */
        log_info("start-up: capability probe %.0f ms, kernel BTF and kallsyms %.0f ms, BPF object "
                 "and probe table %.0f ms, the rest %.0f ms",
                 (double)d->startup_phase_ns[0] / 1e6,
                 (double)(d->startup_phase_ns[1] - d->startup_phase_ns[0]) / 1e6,
                 (double)(d->startup_phase_ns[2] - d->startup_phase_ns[1]) / 1e6,
                 (double)(d->startup_ns - d->startup_phase_ns[2]) / 1e6);
        r = sd_event_loop(d->event);
        sd_notify(0, "STOPPING=1");

        /* Tell clients first (end-of-session summaries), detach afterwards. */
        if (d->rb)
                consume_ringbuf(d);
        for (uint32_t i = 0; i < SKBT_MAX_SESSIONS; i++)
                if (d->slots[i])
                        skbt_session_end(d->slots[i], "shutdown");
        skbt_clients_flush_all(d, 500);
        return r;
}

struct skbtraced *skbtraced_free(struct skbtraced *d)
{
        if (!d)
                return NULL;
        while (d->clients)
                skbt_client_free(d->clients);
        sd_event_source_disable_unref(d->listen_io);
        sd_event_source_disable_unref(d->idle_sweep);
        skbt_control_refused_close_all(d);
        sd_event_source_disable_unref(d->rb_io);
        sd_event_source_disable_unref(d->rb_poll);
        sd_event_source_disable_unref(d->loss_timer);
        skbt_idle_done(d);
        if (d->listen_fd >= 0) {
                close(d->listen_fd);
                if (d->socket_owned)
                        unlink(d->opt.socket_path);
        }
        ring_buffer__free(d->rb);
        skbt_loader_free(d->loader);
        skbt_kernel_btf_release();
        free(d->probe_names);
        free(d->probe_groups);
        skbt_groups_free(d->groups);
        skbt_ksyms_free(d->ksyms);
        skbt_netns_names_free(d->netns_names);
        d->nft_trace_fd = skbt_nft_trace_release(d->nft_trace_fd);
        skbt_drop_reasons_free(d->drop_reasons, d->n_drop_reasons);
        skbt_symdb_done(&d->symdb);
        d->probe_re = skbt_regex_free(d->probe_re);
        free(d->kaddr_buf);
        sd_event_unref(d->event);
        free(d);
        return NULL;
}
