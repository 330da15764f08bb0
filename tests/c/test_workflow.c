/* The workflow functions of libeks6 against the local emulator (started by
 * tests/emulator/harness.py, which sets EKS6_ENDPOINT_URL and test credentials):
 * plans from TOML (good and bad), findings as JSON, a client, up cut short by a
 * time-out and by a cancel from another thread, then a full up with a progress callback
 * counting events (on the calling thread), verify (also from four threads sharing the
 * client and plan), down, and the argument checks.
 * Built with -Wall -Wextra -Werror and ASan/UBSan (leaks included). */
#define _POSIX_C_SOURCE 200809L
#include "eks6.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"

static const char PLAN[] =
    "name = \"c-abi\"\n"
    "region = \"us-west-2\"\n"
    "kubernetes_version = \"1.35\"\n"
    "[vpc]\n"
    "availability_zones = 2\n"
    "[nodegroup]\n"
    "name = \"c-abi-nodes\"\n"
    "instance_types = [\"m5.large\"]\n"
    "desired_size = 2\n"
    "[probe]\n"
    "port = 80\n";

/* Reads a report's JSON into a new malloc'd string, with the size query first. */
static char *report_json(const eks6_report *r) {
    size_t n = 0;
    eks6_status s = eks6_report_json(r, NULL, 0, &n);
    CHECK(s == EKS6_BUFFER_TOO_SMALL && n > 1, "size query: %s %zu", eks6_status_name(s), n);
    char *buf = malloc(n);
    s = eks6_report_json(r, buf, n, &n);
    CHECK(s == EKS6_OK && strlen(buf) + 1 == n, "report json: %s", eks6_status_name(s));
    return buf;
}

struct events {
    pthread_t caller;
    int count;
    int steps_started;
    int steps_finished;
    int waiting;
    int checks;
    int off_thread;
    int bad_json;
    /* set when the first step finishes: the canceller thread waits for it */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int first_step_done;
};

static void on_event(const char *event_json, void *user_data) {
    struct events *ev = user_data;
    ev->count++;
    if (!pthread_equal(pthread_self(), ev->caller)) {
        ev->off_thread++;
    }
    if (event_json[0] != '{' || strstr(event_json, "\"schema_version\":1") == NULL) {
        ev->bad_json++;
    }
    if (strstr(event_json, "\"event\":\"step_started\"")) {
        ev->steps_started++;
    }
    if (strstr(event_json, "\"event\":\"waiting\"")) {
        ev->waiting++;
    }
    if (strstr(event_json, "\"event\":\"check\"")) {
        ev->checks++;
    }
    if (strstr(event_json, "\"event\":\"step_finished\"")) {
        ev->steps_finished++;
        pthread_mutex_lock(&ev->mu);
        ev->first_step_done = 1;
        pthread_cond_signal(&ev->cv);
        pthread_mutex_unlock(&ev->mu);
    }
}

static void events_init(struct events *ev) {
    memset(ev, 0, sizeof *ev);
    ev->caller = pthread_self();
    pthread_mutex_init(&ev->mu, NULL);
    pthread_cond_init(&ev->cv, NULL);
}

struct canceller {
    struct events *ev;
    eks6_cancel *cancel;
    eks6_status status;
};

/* Another thread: waits for the first finished step, then triggers the cancel. */
static void *cancel_after_first_step(void *arg) {
    struct canceller *c = arg;
    pthread_mutex_lock(&c->ev->mu);
    while (!c->ev->first_step_done) {
        pthread_cond_wait(&c->ev->cv, &c->ev->mu);
    }
    pthread_mutex_unlock(&c->ev->mu);
    c->status = eks6_cancel_trigger(c->cancel);
    return NULL;
}

struct shared_verify {
    const eks6_client *client;
    const eks6_plan *plan;
    eks6_status status;
    bool passed;
};

/* Another thread verifying with the same client and plan (both may be shared). */
static void *verify_from_thread(void *arg) {
    struct shared_verify *v = arg;
    eks6_report *r = NULL;
    v->status = eks6_verify(v->client, v->plan, NULL, 120, NULL, NULL, NULL, &r);
    if (v->status == EKS6_OK) {
        eks6_report_passed(r, &v->passed);
    }
    eks6_report_free(r);
    return NULL;
}

static void test_plans(void) {
    eks6_plan *plan = NULL;
    eks6_status s = eks6_plan_from_toml("name = \"x\"\nregion = 7\n", &plan);
    CHECK(s == EKS6_INVALID_PLAN && plan == NULL, "bad plan: %s", eks6_status_name(s));
    CHECK(strstr(last_error(), "line 2") != NULL, "message names the line: %s", last_error());
    s = eks6_plan_from_toml("name = \"x\"\nregion = \"us-west-2\"\nbogus = 1\n", &plan);
    CHECK(s == EKS6_INVALID_PLAN && strstr(last_error(), "bogus") != NULL, "unknown key: %s", last_error());
    s = eks6_plan_from_file("/nonexistent/plan.toml", &plan);
    CHECK(s != EKS6_OK && plan == NULL, "missing file: %s", eks6_status_name(s));
    CHECK(eks6_plan_from_toml(NULL, &plan) == EKS6_NULL_ARGUMENT, "NULL toml");
    CHECK(eks6_plan_from_toml(PLAN, NULL) == EKS6_NULL_ARGUMENT, "NULL out");
    CHECK(eks6_plan_from_toml("name = \"\xff\"", &plan) == EKS6_INVALID_UTF8, "invalid UTF-8");

    s = eks6_plan_from_toml(PLAN, &plan);
    CHECK(s == EKS6_OK, "good plan: %s", last_error());
    size_t n = 0;
    bool has_errors = true;
    s = eks6_plan_validate(plan, NULL, 0, &n, &has_errors);
    CHECK(s == EKS6_BUFFER_TOO_SMALL && n > 10, "validate size query %s", eks6_status_name(s));
    char *json = malloc(n);
    s = eks6_plan_validate(plan, json, n, &n, &has_errors);
    CHECK(s == EKS6_OK && !has_errors && strstr(json, "\"plan\":\"c-abi\"") != NULL, "validate: %s", json);
    free(json);
    eks6_plan_free(plan);
    plan = NULL;

    /* A plan with error findings says so. */
    char bad[sizeof PLAN + 16];
    snprintf(bad, sizeof bad, "name = \"bad name!\"\n%s", strchr(PLAN, '\n') + 1);
    s = eks6_plan_from_toml(bad, &plan);
    CHECK(s == EKS6_OK, "plan with findings parses: %s", last_error());
    if (s != EKS6_OK) {
        return;
    }
    char small[8];
    s = eks6_plan_validate(plan, small, sizeof small, &n, &has_errors);
    CHECK(s == EKS6_BUFFER_TOO_SMALL && has_errors, "findings: %s", eks6_status_name(s));
    eks6_plan_free(plan);
    eks6_plan_free(NULL);

    /* Hostile plans: the walkthrough's text with seeded bytes overwritten. Parsing gives
     * a plan or EKS6_INVALID_PLAN / EKS6_INVALID_UTF8, never a panic. */
    uint64_t r = 0x9e3779b97f4a7c15ULL;
    int panics = 0;
    for (int n = 0; n < 2000; n++) {
        char text[sizeof PLAN];
        memcpy(text, PLAN, sizeof PLAN);
        for (int k = 0; k < 1 + n % 8; k++) {
            r ^= r << 13;
            r ^= r >> 7;
            r ^= r << 17;
            text[r % (sizeof PLAN - 1)] = (char)(1 + (r >> 32) % 255);
        }
        eks6_plan *p = NULL;
        s = eks6_plan_from_toml(text, &p);
        if (s == EKS6_OK) {
            size_t len = 0;
            bool errors = false;
            s = eks6_plan_validate(p, NULL, 0, &len, &errors);
            s = s == EKS6_BUFFER_TOO_SMALL ? EKS6_OK : s;
            eks6_plan_free(p);
        }
        if (s != EKS6_OK && s != EKS6_INVALID_PLAN && s != EKS6_INVALID_UTF8) {
            panics++;
            CHECK(0, "hostile plan #%d: %s: %s", n, eks6_status_name(s), last_error());
        }
    }
    CHECK(panics == 0, "%d hostile plans misbehaved", panics);
}

static void test_arguments(eks6_client *client, eks6_plan *plan) {
    eks6_report *r = NULL;
    CHECK(eks6_up(NULL, plan, "j", 0, NULL, NULL, NULL, &r) == EKS6_NULL_ARGUMENT, "NULL client");
    CHECK(eks6_up(client, NULL, "j", 0, NULL, NULL, NULL, &r) == EKS6_NULL_ARGUMENT, "NULL plan");
    CHECK(eks6_up(client, plan, NULL, 0, NULL, NULL, NULL, &r) == EKS6_NULL_ARGUMENT, "NULL journal");
    CHECK(eks6_up(client, plan, "j", 0, NULL, NULL, NULL, NULL) == EKS6_NULL_ARGUMENT, "NULL out_report");
    CHECK(eks6_down(client, plan, NULL, 0, NULL, NULL, NULL, &r) == EKS6_NULL_ARGUMENT, "down NULL journal");
    CHECK(eks6_verify(client, NULL, NULL, 0, NULL, NULL, NULL, &r) == EKS6_NULL_ARGUMENT, "verify NULL plan");
    CHECK(strstr(last_error(), "plan") != NULL, "message names the argument: %s", last_error());
    CHECK(eks6_client_set_wait_policy(client, -1, 10, 1) == EKS6_INVALID_ARGUMENT, "negative interval");
    CHECK(strstr(last_error(), "wait poll interval: -1 seconds") != NULL, "names the interval: %s", last_error());
    CHECK(eks6_client_set_wait_policy(client, 0, 10, 0) == EKS6_INVALID_ARGUMENT, "zero scale");
    CHECK(strstr(last_error(), "wait time scale: 0: give a factor above zero") != NULL, "names the scale: %s", last_error());
    CHECK(eks6_client_set_wait_policy(client, 0, 0, 1) == EKS6_INVALID_ARGUMENT, "zero deadline");
    /* The graphs up and down run, with the usual durations. */
    {
        char graph[16384];
        size_t n = 0;
        CHECK(eks6_step_graph("up", graph, sizeof graph, &n) == EKS6_OK, "step_graph up: %s", last_error());
        CHECK(strstr(graph, "\"workflow\":\"up\"") != NULL, "the up graph: %.80s", graph);
        CHECK(strstr(graph, "{\"step\":\"nodegroup\",\"needs\":[\"node-role\",\"cluster\",\"route-tables\",\"addons\"]") != NULL,
              "the nodegroup needs the cluster, its routes and the CNI: %s", graph);
        CHECK(strstr(graph, "\"kind\":\"cluster-create\",\"seconds\":") != NULL, "expected durations");
        CHECK(eks6_step_graph("down", graph, sizeof graph, &n) == EKS6_OK, "step_graph down");
        CHECK(strstr(graph, "{\"step\":\"nat-gateways\",\"needs\":[\"sample\"]") != NULL,
              "down deletes the NAT gateways beside the cluster: %s", graph);
        CHECK(eks6_step_graph("sideways", graph, sizeof graph, &n) == EKS6_INVALID_ARGUMENT, "bad workflow");
        CHECK(strstr(last_error(), "give \"up\" or \"down\"") != NULL, "message: %s", last_error());
        CHECK(eks6_step_graph("up", graph, 8, &n) == EKS6_BUFFER_TOO_SMALL && n > 8, "small buffer: %zu", n);
    }
    /* A profile that is not in the config files, a malformed region or endpoint: bad input. */
    eks6_client *other = NULL;
    CHECK(eks6_client_new("us-west-2", "nosuch-profile", NULL, &other) == EKS6_INVALID_ARGUMENT, "no such profile");
    CHECK(strstr(last_error(), "nosuch-profile") != NULL, "names the profile: %s", last_error());
    CHECK(eks6_client_new("not a region!", NULL, NULL, &other) == EKS6_INVALID_ARGUMENT, "bad region");
    CHECK(eks6_client_new("us-west-2", NULL, "not a url", &other) == EKS6_INVALID_ARGUMENT, "bad endpoint");
    CHECK(other == NULL, "no client on errors");
    CHECK(eks6_cancel_trigger(NULL) == EKS6_NULL_ARGUMENT, "NULL cancel");
    CHECK(eks6_report_json(NULL, NULL, 0, NULL) == EKS6_NULL_ARGUMENT, "NULL report");
    eks6_client_free(NULL);
    eks6_cancel_free(NULL);
    eks6_report_free(NULL);
    CHECK(r == NULL, "no report on errors");
}

int main(void) {
    const char *endpoint = getenv("EKS6_ENDPOINT_URL");
    if (endpoint == NULL) {
        fprintf(stderr, "EKS6_ENDPOINT_URL is not set: run me through tests/emulator/harness.py\n");
        return 2;
    }
    char dir[] = "/tmp/eks6-c-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 2;
    }
    char journal[64];
    snprintf(journal, sizeof journal, "%s/journal.json", dir);

    test_plans();

    eks6_plan *plan = NULL;
    eks6_status s = eks6_plan_from_toml(PLAN, &plan);
    CHECK(s == EKS6_OK, "plan: %s", last_error());

    /* A client in another region is refused before any call. */
    eks6_client *other = NULL;
    s = eks6_client_new("eu-west-1", NULL, endpoint, &other);
    CHECK(s == EKS6_OK, "client: %s", last_error());
    eks6_report *report = NULL;
    s = eks6_up(other, plan, journal, 0, NULL, NULL, NULL, &report);
    CHECK(s == EKS6_REGION_MISMATCH, "region mismatch: %s", eks6_status_name(s));
    eks6_client_free(other);

    eks6_client *client = NULL;
    s = eks6_client_new("us-west-2", NULL, endpoint, &client);
    CHECK(s == EKS6_OK, "client: %s", last_error());
    test_arguments(client, plan);

    /* 0. The live pre-flight: the plan passes (its roles are eks6's to create); a node
     * role that does not exist is an error finding, in a report, not a failed call. */
    s = eks6_plan_check_live(client, plan, 60, NULL, &report);
    CHECK(s == EKS6_OK, "check_live: %s: %s", eks6_status_name(s), last_error());
    if (s == EKS6_OK) {
        bool passed = false;
        char *json = report_json(report);
        CHECK(eks6_report_passed(report, &passed) == EKS6_OK && passed, "live pre-flight passed: %.600s", json);
        CHECK(strstr(json, "\"findings\"") != NULL, "a plan report: %.200s", json);
        free(json);
        eks6_report_free(report);
        report = NULL;
    }
    {
        char text[sizeof PLAN + 128];
        const char *at = strstr(PLAN, "[vpc]");
        snprintf(text, sizeof text, "%.*s[iam]\nnode_role = \"arn:aws:iam::123456789012:role/no-such-node-role\"\n%s",
                 (int)(at - PLAN), PLAN, at);
        eks6_plan *missing = NULL;
        CHECK(eks6_plan_from_toml(text, &missing) == EKS6_OK, "plan with a role: %s", last_error());
        s = eks6_plan_check_live(client, missing, 60, NULL, &report);
        CHECK(s == EKS6_OK, "check_live: %s: %s", eks6_status_name(s), last_error());
        if (s == EKS6_OK) {
            bool passed = true;
            char *json = report_json(report);
            CHECK(eks6_report_passed(report, &passed) == EKS6_OK && !passed, "a missing role fails: %.600s", json);
            CHECK(strstr(json, "\"rule\":\"role-exists\"") && strstr(json, "no-such-node-role"),
                  "the finding names it: %.600s", json);
            free(json);
            eks6_report_free(report);
            report = NULL;
        }
        CHECK(eks6_plan_check_live(client, NULL, 0, NULL, &report) == EKS6_NULL_ARGUMENT, "NULL plan");
        eks6_plan_free(missing);
    }

    /* 1. A time-out: the first wait polls after 3 s, the limit is 1 s. */
    CHECK(eks6_client_set_wait_policy(client, 3.0, 60, 1) == EKS6_OK, "set_wait");
    s = eks6_up(client, plan, journal, 1, NULL, NULL, NULL, &report);
    CHECK(s == EKS6_TIMEOUT, "up past its limit: %s: %s", eks6_status_name(s), last_error());
    CHECK(strstr(last_error(), "time limit of 1s") != NULL, "time-out message: %s", last_error());

    /* 2. A cancel from another thread after the first step of a resumed up. */
    CHECK(eks6_client_set_wait_policy(client, 0.01, 60, 1) == EKS6_OK, "set_wait");
    eks6_cancel *cancel = NULL;
    CHECK(eks6_cancel_new(&cancel) == EKS6_OK, "cancel_new");
    struct events ev;
    events_init(&ev);
    struct canceller c = {.ev = &ev, .cancel = cancel, .status = EKS6_PANIC};
    pthread_t t;
    pthread_create(&t, NULL, cancel_after_first_step, &c);
    s = eks6_up(client, plan, journal, 0, cancel, on_event, &ev, &report);
    pthread_join(t, NULL);
    CHECK(c.status == EKS6_OK, "trigger: %s", eks6_status_name(c.status));
    CHECK(s == EKS6_CANCELLED, "cancelled up: %s: %s", eks6_status_name(s), last_error());
    CHECK(ev.steps_finished >= 1 && ev.steps_finished < 9, "stopped early: %d steps", ev.steps_finished);
    eks6_cancel_free(cancel);

    /* 3. The full up resumes, with events counted on this thread. */
    events_init(&ev);
    s = eks6_up(client, plan, journal, 600, NULL, on_event, &ev, &report);
    CHECK(s == EKS6_OK, "up: %s: %s", eks6_status_name(s), last_error());
    CHECK(ev.count > 0 && ev.steps_started == ev.steps_finished && ev.steps_finished >= 9,
          "events: %d (%d started, %d finished)", ev.count, ev.steps_started, ev.steps_finished);
    CHECK(ev.waiting >= 1, "waits reported: %d", ev.waiting);
    CHECK(ev.off_thread == 0, "%d events off the calling thread", ev.off_thread);
    CHECK(ev.bad_json == 0, "%d events not in the schema", ev.bad_json);
    if (s == EKS6_OK) {
        char *json = report_json(report);
        CHECK(strstr(json, "\"workflow\":\"up\"") && strstr(json, "\"cluster\":\"c-abi\""), "up report: %.200s",
              json);
        CHECK(strstr(json, "vpc-") != NULL, "the VPC is in the report");
        free(json);
        bool passed = false;
        CHECK(eks6_report_passed(report, &passed) == EKS6_OK && passed, "up passed");
        eks6_report_free(report);
        report = NULL;
    }
    uint64_t calls = 0;
    CHECK(eks6_client_api_calls(client, &calls) == EKS6_OK && calls > 20, "api calls: %llu",
          (unsigned long long)calls);

    /* 4. Verify (no probe asked for, so no probe check). */
    events_init(&ev);
    s = eks6_verify(client, plan, NULL, 120, NULL, on_event, &ev, &report);
    CHECK(s == EKS6_OK, "verify: %s: %s", eks6_status_name(s), last_error());
    CHECK(ev.checks >= 6 && ev.count == ev.checks && ev.off_thread == 0, "verify events: %d checks of %d events",
          ev.checks, ev.count);
    if (s == EKS6_OK) {
        char *json = report_json(report);
        CHECK(strstr(json, "\"nodes-ipv6\"") && strstr(json, "\"status\":\"pass\""), "verify report: %.300s", json);
        bool passed = false;
        CHECK(eks6_report_passed(report, &passed) == EKS6_OK && passed, "verify passed: %.600s", json);
        free(json);
        eks6_report_free(report);
        report = NULL;
    }

    /* 4b. The client and plan shared by four threads verifying at once. */
    struct shared_verify sv[4];
    pthread_t threads[4];
    for (int i = 0; i < 4; i++) {
        sv[i] = (struct shared_verify){.client = client, .plan = plan, .status = EKS6_PANIC, .passed = false};
        pthread_create(&threads[i], NULL, verify_from_thread, &sv[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(threads[i], NULL);
        CHECK(sv[i].status == EKS6_OK && sv[i].passed, "verify on thread %d: %s", i, eks6_status_name(sv[i].status));
    }

    /* 4c. The EKS token, made by libeks6 with the client's credentials. */
    CHECK(eks6_eks_token(client, NULL, &report) == EKS6_NULL_ARGUMENT, "token NULL cluster");
    s = eks6_eks_token(client, "c-abi", &report);
    CHECK(s == EKS6_OK, "token: %s: %s", eks6_status_name(s), last_error());
    if (s == EKS6_OK) {
        char *json = report_json(report);
        CHECK(strstr(json, "\"kind\":\"ExecCredential\"") && strstr(json, "\"token\":\"k8s-aws-v1.") &&
                  strstr(json, "client.authentication.k8s.io/v1beta1"),
              "token: %.80s", json);
        free(json);
        eks6_report_free(report);
        report = NULL;
    }

    /* 4d. A plan with [sample]: verify checks the Kubernetes side too, by default. This
     * cluster has no Kubernetes API behind it (no control plane registered with the
     * emulator), so verify stops with the kind that says so. A bad [sample] is refused. */
    char with_sample[sizeof PLAN + 64];
    snprintf(with_sample, sizeof with_sample, "%s[sample]\n", PLAN);
    eks6_plan *sampled = NULL;
    CHECK(eks6_plan_from_toml(with_sample, &sampled) == EKS6_OK, "plan with [sample]: %s", last_error());
    if (sampled != NULL) {
        s = eks6_verify(client, sampled, NULL, 120, NULL, NULL, NULL, &report);
        CHECK(s == EKS6_KUBE_NETWORK, "verify with [sample] and no API: %s: %s", eks6_status_name(s), last_error());
        CHECK(strstr(last_error(), "Kubernetes API") != NULL, "the message says which: %s", last_error());
        eks6_plan_free(sampled);
    }
    snprintf(with_sample, sizeof with_sample, "%s[sample]\nreplicas = 0\n", PLAN);
    CHECK(eks6_plan_from_toml(with_sample, &sampled) == EKS6_OK, "plan with a bad [sample]: %s", last_error());
    if (sampled != NULL) {
        char buf[8192];
        size_t len = 0;
        bool errors = false;
        s = eks6_plan_validate(sampled, buf, sizeof buf, &len, &errors);
        CHECK(s == EKS6_OK && errors && strstr(buf, "\"sample-replicas\"") != NULL, "bad sample: %.300s", buf);
        eks6_plan_free(sampled);
    }

    /* 5. Down by the cluster's name alone (what its tags say is the plan's), with events. */
    events_init(&ev);
    CHECK(eks6_down_cluster(client, NULL, journal, 0, NULL, NULL, NULL, &report) == EKS6_NULL_ARGUMENT, "NULL name");
    s = eks6_down_cluster(client, "c-abi", journal, 600, NULL, on_event, &ev, &report);
    CHECK(s == EKS6_OK, "down: %s: %s", eks6_status_name(s), last_error());
    CHECK(ev.steps_finished > 0 && ev.off_thread == 0, "down events: %d", ev.steps_finished);
    if (s == EKS6_OK) {
        char *json = report_json(report);
        CHECK(strstr(json, "\"workflow\":\"down\"") && strstr(json, "\"deleted\""), "down report: %.300s", json);
        free(json);
        eks6_report_free(report);
        report = NULL;
    }
    /* Down again: nothing owned is left, so nothing is deleted. */
    s = eks6_down(client, plan, journal, 600, NULL, NULL, NULL, &report);
    CHECK(s == EKS6_OK, "second down: %s", last_error());
    if (s == EKS6_OK) {
        char *json = report_json(report);
        CHECK(strstr(json, "\"deleted\"") == NULL, "second down deleted something: %.300s", json);
        free(json);
        eks6_report_free(report);
    }

    eks6_client_free(client);
    eks6_plan_free(plan);
    unlink(journal);
    /* The plan's lock is kept in eks6's state directory, not beside the journal. */
    char lock[80];
    snprintf(lock, sizeof lock, "%s.lock", journal);
    CHECK(access(lock, F_OK) != 0, "no lock file beside the journal");
    rmdir(dir);
    printf("test_workflow: %d checks, %d failed\n", checks, failures);
    return failures == 0 ? 0 : 1;
}
