/* A Kafka cluster nobody here wrote, for tests: librdkafka's built-in mock cluster
 * (rdkafka_mock.h) run as a standalone process and driven by commands on stdin.
 *
 * Build: cc -O2 -o mock-cluster mock-cluster.c -lrdkafka   (Debian: librdkafka-dev)
 * Run:   mock-cluster [--brokers N] [--topic NAME:PARTITIONS[:REPLICAS]]... [--exit-on-eof]
 *
 * Prints "bootstrap HOST:PORT,..." on stdout once listening, then reads one command per
 * stdin line and answers each with "ok [detail]" or "error <reason>":
 *   version                             librdkafka version serving the cluster
 *   topic NAME PARTITIONS [REPLICAS]    create a topic
 *   leader TOPIC PARTITION BROKERID     move a partition leader (-1: leaderless)
 *   follower TOPIC PARTITION BROKERID   set the preferred follower replica
 *   down BROKERID | up BROKERID         disconnect a broker and refuse connections / resume
 *   rtt BROKERID MS                     delay every response of a broker
 *   rack BROKERID RACK                  rack advertised in Metadata
 *   coordinator group|transaction KEY BROKERID
 *   errors APIKEY CODE...               the next requests of APIKEY fail with these codes
 *   apiversion APIKEY MIN MAX           narrow (or with -1 -1 disable) an API
 * Serves until SIGTERM/SIGINT, or until stdin closes when --exit-on-eof is given (so a
 * test runner that dies cannot leave the cluster behind). */
#define _GNU_SOURCE
#include <librdkafka/rdkafka.h>
#include <librdkafka/rdkafka_mock.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_ARGS 64

static volatile sig_atomic_t stopping = 0;

static void on_signal(int sig) {
    (void)sig;
    stopping = 1;
}

/* Parses a whole decimal integer; returns 0 on success. */
static int parse_int(const char *text, long *out) {
    char *end;
    if (text == NULL || *text == '\0') return -1;
    errno = 0;
    *out = strtol(text, &end, 10);
    return (errno != 0 || *end != '\0') ? -1 : 0;
}

static void reply(rd_kafka_resp_err_t err) {
    if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
        printf("ok\n");
    else
        printf("error %s\n", rd_kafka_err2str(err));
}

static void run_command(rd_kafka_mock_cluster_t *mc, int argc, char **argv) {
    long a, b, c;
    const char *cmd = argc > 0 ? argv[0] : "";

    if (!strcmp(cmd, "version") && argc == 1) {
        printf("ok %s\n", rd_kafka_version_str());
    } else if (!strcmp(cmd, "topic") && (argc == 3 || argc == 4) && !parse_int(argv[2], &a)) {
        b = 1;
        if (argc == 4 && parse_int(argv[3], &b)) goto usage;
        reply(rd_kafka_mock_topic_create(mc, argv[1], (int)a, (int)b));
    } else if (!strcmp(cmd, "leader") && argc == 4 && !parse_int(argv[2], &a) &&
               !parse_int(argv[3], &b)) {
        reply(rd_kafka_mock_partition_set_leader(mc, argv[1], (int32_t)a, (int32_t)b));
    } else if (!strcmp(cmd, "follower") && argc == 4 && !parse_int(argv[2], &a) &&
               !parse_int(argv[3], &b)) {
        reply(rd_kafka_mock_partition_set_follower(mc, argv[1], (int32_t)a, (int32_t)b));
    } else if (!strcmp(cmd, "down") && argc == 2 && !parse_int(argv[1], &a)) {
        reply(rd_kafka_mock_broker_set_down(mc, (int32_t)a));
    } else if (!strcmp(cmd, "up") && argc == 2 && !parse_int(argv[1], &a)) {
        reply(rd_kafka_mock_broker_set_up(mc, (int32_t)a));
    } else if (!strcmp(cmd, "rtt") && argc == 3 && !parse_int(argv[1], &a) &&
               !parse_int(argv[2], &b)) {
        reply(rd_kafka_mock_broker_set_rtt(mc, (int32_t)a, (int)b));
    } else if (!strcmp(cmd, "rack") && argc == 3 && !parse_int(argv[1], &a)) {
        reply(rd_kafka_mock_broker_set_rack(mc, (int32_t)a, argv[2]));
    } else if (!strcmp(cmd, "coordinator") && argc == 4 && !parse_int(argv[3], &a)) {
        reply(rd_kafka_mock_coordinator_set(mc, argv[1], argv[2], (int32_t)a));
    } else if (!strcmp(cmd, "errors") && argc >= 3 && !parse_int(argv[1], &a)) {
        rd_kafka_resp_err_t codes[MAX_ARGS];
        size_t n = 0;
        for (int i = 2; i < argc; i++) {
            if (parse_int(argv[i], &b)) goto usage;
            codes[n++] = (rd_kafka_resp_err_t)b;
        }
        rd_kafka_mock_push_request_errors_array(mc, (int16_t)a, n, codes);
        printf("ok\n");
    } else if (!strcmp(cmd, "apiversion") && argc == 4 && !parse_int(argv[1], &a) &&
               !parse_int(argv[2], &b) && !parse_int(argv[3], &c)) {
        reply(rd_kafka_mock_set_apiversion(mc, (int16_t)a, (int16_t)b, (int16_t)c));
    } else {
        goto usage;
    }
    return;
usage:
    printf("error unknown command or bad arguments: %s\n", cmd);
}

/* Splits a line on spaces and tabs in place; returns the word count. */
static int split_words(char *line, char **argv) {
    int argc = 0;
    for (char *word = strtok(line, " \t\r"); word && argc < MAX_ARGS; word = strtok(NULL, " \t\r"))
        argv[argc++] = word;
    return argc;
}

/* Reads stdin until a signal arrives (or EOF with exit_on_eof), running each line.
 * Signals are blocked except inside ppoll, so one arriving between checks is not lost. */
static void serve(rd_kafka_mock_cluster_t *mc, int exit_on_eof, const sigset_t *waitmask) {
    char buf[4096];
    size_t used = 0;
    int stdin_open = 1;

    while (!stopping) {
        struct pollfd pfd = { .fd = 0, .events = POLLIN };
        int n = ppoll(&pfd, stdin_open ? 1 : 0, NULL, waitmask);
        if (n < 0) {
            if (errno == EINTR) continue;
            perror("ppoll");
            return;
        }
        ssize_t got = read(0, buf + used, sizeof buf - 1 - used);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) {
            if (exit_on_eof) return;
            stdin_open = 0;
            continue;
        }
        used += (size_t)got;
        char *newline;
        while ((newline = memchr(buf, '\n', used)) != NULL) {
            char *argv[MAX_ARGS];
            size_t len = (size_t)(newline - buf);
            *newline = '\0';
            int argc = split_words(buf, argv);
            if (argc > 0) run_command(mc, argc, argv);
            fflush(stdout);
            memmove(buf, newline + 1, used - len - 1);
            used -= len + 1;
        }
        if (used == sizeof buf - 1) {
            printf("error line too long\n");
            fflush(stdout);
            used = 0;
        }
    }
}

int main(int argc, char **argv) {
    long brokers = 1;
    int exit_on_eof = 0;
    char errstr[512];

    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--brokers") && i + 1 < argc) {
            if (parse_int(argv[++i], &brokers) || brokers < 1) {
                fprintf(stderr, "--brokers needs a positive number\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--exit-on-eof")) {
            exit_on_eof = 1;
        } else if (!strcmp(argv[i], "--topic") && i + 1 < argc) {
            i++; /* created below, once the cluster exists */
        } else {
            fprintf(stderr, "unknown argument %s\n", argv[i]);
            return 2;
        }
    }

    /* Block the stop signals before any thread starts, so librdkafka's threads inherit
     * the mask and the signals are only ever taken in ppoll below. */
    sigset_t stopmask, waitmask;
    sigemptyset(&stopmask);
    sigaddset(&stopmask, SIGTERM);
    sigaddset(&stopmask, SIGINT);
    sigprocmask(SIG_BLOCK, &stopmask, &waitmask);
    sigdelset(&waitmask, SIGTERM);
    sigdelset(&waitmask, SIGINT);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);

    rd_kafka_conf_t *conf = rd_kafka_conf_new();
    rd_kafka_conf_set(conf, "log_level", "3", errstr, sizeof errstr);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof errstr);
    if (rk == NULL) {
        fprintf(stderr, "rd_kafka_new: %s\n", errstr);
        return 1;
    }
    rd_kafka_mock_cluster_t *mc = rd_kafka_mock_cluster_new(rk, (int)brokers);
    if (mc == NULL) {
        fprintf(stderr, "the mock cluster could not start\n");
        return 1;
    }

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--topic") || i + 1 >= argc) continue;
        char spec[256];
        long parts = 1, replicas = brokers < 3 ? brokers : 3;
        snprintf(spec, sizeof spec, "%s", argv[++i]);
        char *first = strchr(spec, ':');
        char *second = first ? strchr(first + 1, ':') : NULL;
        if (second) {
            *second = '\0';
            if (parse_int(second + 1, &replicas)) first = NULL;
        }
        if (first) *first = '\0';
        if (first == NULL || parse_int(first + 1, &parts) ||
            rd_kafka_mock_topic_create(mc, spec, (int)parts, (int)replicas)) {
            fprintf(stderr, "could not create topic %s (want NAME:PARTITIONS[:REPLICAS])\n",
                    argv[i]);
            return 1;
        }
    }

    printf("bootstrap %s\n", rd_kafka_mock_cluster_bootstraps(mc));
    fflush(stdout);
    serve(mc, exit_on_eof, &waitmask);

    rd_kafka_mock_cluster_destroy(mc);
    rd_kafka_destroy(rk);
    return 0;
}
