// SPDX-License-Identifier: GPL-2.0-only
/* Emulated hosts: each a child that unshares network and mount namespaces, mounts a tmpfs on
 * /run and on root's home and a bpffs of its own, then becomes sshd. The test's side plugs a veth into it from the
 * underlay bridge. Test-only code: it runs ip, ssh-keygen and nsenter as a person would. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "lib/monotonic.h"
#include "tests/lib/emu_hosts.h"
#include "tests/lib/netlab.h"

#define SSHD "/usr/sbin/sshd"

static int sh_quiet(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int sh_quiet(const char *fmt, ...)
{
	char cmd[2048], out[2048];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	rc = netlab_sh(out, sizeof(out), "%s", cmd);
	if (rc)
		printf("emu_hosts: `%s` exited %d: %s\n", cmd, rc, out);
	return rc;
}

/* The host's side, in the child: its own namespaces and /run, then sshd in the foreground. */
static void host_child(const struct emu_hosts *e, unsigned int k, int ready_fd, int go_fd)
{
	char cfg[256], log[256], listen[64], c = 0;
	int fd;

	/* A home of its own too: this machine's root shell start-up files (run by every ssh
	 * command, in bash's case) are no emulated host's, and took 0.4 s a command here. */
	if (unshare(CLONE_NEWNET | CLONE_NEWNS) ||
	    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    mount("emu-run", "/run", "tmpfs", 0, "mode=0755") ||
	    mount("emu-home", "/root", "tmpfs", 0, "mode=0700") ||
	    mount("emu-bpf", "/sys/fs/bpf", "bpf", 0, "mode=0700") || mkdir("/run/sshd", 0755))
		_exit(126);
	if (write(ready_fd, &c, 1) != 1 || read(go_fd, &c, 1) != 1)
		_exit(126);
	snprintf(cfg, sizeof(cfg), "%s/sshd_config", e->dir);
	snprintf(log, sizeof(log), "%s/sshd%u.log", e->dir, k);
	fd = open(log, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	setsid();
	snprintf(listen, sizeof(listen), "ListenAddress=%s", e->addr[k]);
	execl(SSHD, SSHD, "-D", "-e", "-f", cfg, "-o", listen, (char *)NULL);
	_exit(127);
}

static int wait_listening(pid_t sshd, const char *addr)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(22) };

	/* Each attempt bounded too: a SYN nobody answers would hold a blocking connect for
	 * minutes. */
	struct timeval attempt = { .tv_sec = 1 };
	uint64_t deadline;

	inet_pton(AF_INET, addr, &sa.sin_addr);
	/* A bound for a broken sshd, not a claim about speed. */
	deadline = monotonic_ns() + 60ull * 1000000000ull;
	while (monotonic_ns() < deadline) {
		int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		int ok = fd >= 0 &&
			 !setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &attempt, sizeof(attempt)) &&
			 !connect(fd, (struct sockaddr *)&sa, sizeof(sa));

		if (fd >= 0)
			close(fd);
		if (ok)
			return 0;
		if (waitpid(sshd, NULL, WNOHANG) == sshd)
			break;
		usleep(10000);
	}
	printf("emu_hosts: sshd on %s does not listen (its log is in the test's folder)\n", addr);
	return -1;
}

static int start_host(struct emu_hosts *e, unsigned int k)
{
	int ready[2], go[2];
	char c = 0;
	pid_t pid;

	if (pipe2(ready, O_CLOEXEC) || pipe2(go, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0)
		host_child(e, k, ready[1], go[0]);
	close(ready[1]);
	close(go[0]);
	if (pid < 0 || read(ready[0], &c, 1) != 1) {
		close(ready[0]);
		close(go[1]);
		return -1;
	}
	close(ready[0]);
	e->sshd[k] = pid;
	if (sh_quiet("ip link add %s-h%u type veth peer name ul0 netns %d && "
		     "ip link set %s-h%u master %s up && "
		     "nsenter -t %d -n sh -c 'ip addr add %s/24 dev ul0 && ip link set ul0 up && "
		     "ip link set lo up'",
		     e->bridge, k, (int)pid, e->bridge, k, e->bridge, (int)pid, e->addr[k]) ||
	    write(go[1], &c, 1) != 1) {
		close(go[1]);
		return -1;
	}
	close(go[1]);
	return wait_listening(pid, e->addr[k]);
}

static int write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fputs(text, f);
	return fclose(f) ? -1 : 0;
}

int emu_hosts_start(struct emu_hosts *e, unsigned int count)
{
	char path[256], text[1024], ssh[1024], prog[1024];

	memset(e, 0, sizeof(*e));
	if (access(SSHD, X_OK)) {
		printf("emu_hosts: SKIP: no %s (Debian's openssh-server; make deps installs it)\n",
		       SSHD);
		exit(77);
	}
	if (count > EMU_HOSTS_MAX)
		return -1;
	/* The underlay and the controller's side live in the test's own network namespace: no
	 * address or bridge of the test is seen by anyone else. */
	if (unshare(CLONE_NEWNET)) {
		printf("emu_hosts: unshare: %s\n", strerror(errno));
		return -1;
	}
	e->count = count;
	e->subnet_octet = 1 + getpid() % 250;
	snprintf(e->dir, sizeof(e->dir), "/tmp/capnet-hosts-%d", (int)getpid());
	snprintf(e->bridge, sizeof(e->bridge), "ul%d", (int)getpid() % 100000);
	if (mkdir(e->dir, 0700) && errno != EEXIST)
		return -1;
	if (sh_quiet("ip link set lo up && ip link add %s type bridge && "
		     "ip addr add 10.231.%u.254/24 dev %s && ip link set %s up",
		     e->bridge, e->subnet_octet, e->bridge, e->bridge) ||
	    sh_quiet("ssh-keygen -q -t ed25519 -N '' -f %s/key && "
		     "ssh-keygen -q -t ed25519 -N '' -f %s/host_key && "
		     "cp %s/key.pub %s/authorized_keys",
		     e->dir, e->dir, e->dir, e->dir))
		return -1;
	snprintf(text, sizeof(text),
		 "HostKey %s/host_key\nAuthorizedKeysFile %s/authorized_keys\n"
		 "PermitRootLogin prohibit-password\nPasswordAuthentication no\n"
		 "KbdInteractiveAuthentication no\nUsePAM no\nStrictModes no\nUseDNS no\n"
		 "PidFile none\nMaxSessions 64\nMaxStartups 64\nSubsystem sftp internal-sftp\n"
		 "PermitUserEnvironment CAPNET_TEST_*\n",
		 e->dir, e->dir);
	snprintf(path, sizeof(path), "%s/sshd_config", e->dir);
	if (write_file(path, text))
		return -1;
	for (unsigned int k = 0; k < count; k++) {
		snprintf(e->addr[k], sizeof(e->addr[k]), "10.231.%u.%u", e->subnet_octet, k + 1);
		if (start_host(e, k)) {
			emu_hosts_stop(e);
			return -1;
		}
		snprintf(e->hosts_arg + strlen(e->hosts_arg),
			 sizeof(e->hosts_arg) - strlen(e->hosts_arg), "%s%s", k ? "," : "",
			 e->addr[k]);
	}
	/* The connect timeout bounds a test against a host that vanished; it is no claim. */
	snprintf(ssh, sizeof(ssh),
		 "ssh -i %s/key -o IdentitiesOnly=yes -o StrictHostKeyChecking=no "
		 "-o UserKnownHostsFile=/dev/null -o LogLevel=ERROR -o BatchMode=yes "
		 "-o ConnectTimeout=20 -l root",
		 e->dir);
	setenv("CAPNET_SSH", ssh, 1);
	if (getenv("CAPNET"))
		setenv("CAPNET_REMOTE_BIN", getenv("CAPNET"), 1);
	/* A host's share of capctl load and captrace record: the programs beside $CAPNET. */
	netlab_sibling("capctl", prog, sizeof(prog));
	setenv("CAPCTL_REMOTE_BIN", prog, 1);
	netlab_sibling("captrace", prog, sizeof(prog));
	setenv("CAPTRACE_REMOTE_BIN", prog, 1);
	return 0;
}

/* Every process whose mount namespace is that of pid: the host's sshd, its sessions, and
 * whatever they started. */
static void kill_mount_ns_of(pid_t pid)
{
	char path[64], link[64], mine[64];
	struct dirent *d;
	DIR *proc;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)pid);
	n = readlink(path, mine, sizeof(mine) - 1);
	if (n <= 0)
		return;
	mine[n] = '\0';
	proc = opendir("/proc");
	if (!proc)
		return;
	while ((d = readdir(proc))) {
		int other = atoi(d->d_name);

		if (other <= 0 || other == pid)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/ns/mnt", other);
		n = readlink(path, link, sizeof(link) - 1);
		if (n > 0 && (link[n] = '\0', !strcmp(link, mine)))
			kill(other, SIGKILL);
	}
	closedir(proc);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

int emu_host_kill(struct emu_hosts *e, unsigned int k, const char *lab)
{
	char out[512];

	if (k >= e->count || !e->sshd[k])
		return -1;
	emu_host_sh(e, k, out, sizeof(out), "ip netns del %s-sw", lab);
	kill_mount_ns_of(e->sshd[k]);
	e->sshd[k] = 0;
	/* The address stays, answered by a namespace that listens on nothing. */
	return sh_quiet("ip link del %s-h%u; ip netns add %s-h%u && "
			"ip link add %s-h%u type veth peer name ul0 netns %s-h%u && "
			"ip link set %s-h%u master %s up && ip -n %s-h%u addr add %s/24 dev ul0 && "
			"ip -n %s-h%u link set ul0 up",
			e->bridge, k, e->bridge, k, e->bridge, k, e->bridge, k, e->bridge, k,
			e->bridge, e->bridge, k, e->addr[k], e->bridge, k);
}

void emu_hosts_stop(struct emu_hosts *e)
{
	char out[256];

	for (unsigned int k = 0; k < e->count; k++) {
		if (e->sshd[k])
			kill_mount_ns_of(e->sshd[k]);
		e->sshd[k] = 0;
		netlab_sh(out, sizeof(out), "ip netns del %s-h%u 2>/dev/null; ip link del %s-h%u",
			  e->bridge, k, e->bridge, k);
	}
	if (e->bridge[0])
		netlab_sh(out, sizeof(out), "ip link del %s", e->bridge);
	if (e->dir[0])
		netlab_sh(out, sizeof(out), "rm -rf %s", e->dir);
	e->count = 0;
}

void emu_hosts_stop_lab(struct emu_hosts *e, const char *lab)
{
	char out[256];

	emu_hosts_stop(e);
	netlab_sh(out, sizeof(out), "rm -rf /run/capnet/%s", lab);
}

void emu_hosts_revive_all(struct emu_hosts *e)
{
	for (unsigned int k = 0; k < e->count; k++)
		if (!e->sshd[k])
			emu_host_revive(e, k);
}

static struct {
	struct emu_hosts *hosts;
	unsigned int count;
	const char *lab;
} fixture;

void emu_hosts_fixture(struct emu_hosts *e, unsigned int count, const char *lab)
{
	fixture.hosts = e;
	fixture.count = count;
	fixture.lab = lab;
}

int emu_hosts_group_setup(void **state)
{
	(void)state;
	return emu_hosts_start(fixture.hosts, fixture.count);
}

int emu_hosts_group_teardown(void **state)
{
	(void)state;
	emu_hosts_stop_lab(fixture.hosts, fixture.lab);
	return 0;
}

int emu_hosts_test_teardown(void **state)
{
	emu_hosts_revive_all(fixture.hosts);
	return netlab_teardown(state);
}

int emu_host_sh(const struct emu_hosts *e, unsigned int k, char *out, size_t outlen,
		const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	if (k >= e->count || !e->sshd[k])
		return -1;
	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return netlab_sh(out, outlen, "nsenter -t %d -n -m sh -c '%s'", (int)e->sshd[k], cmd);
}

int emu_host_lab_namespaces(const struct emu_hosts *e, unsigned int k, const char *lab)
{
	char out[4096];
	int n = 0;

	if (emu_host_sh(e, k, out, sizeof(out), "ls /run/netns 2>/dev/null; true"))
		return -1;
	for (char *line = strtok(out, "\n"); line; line = strtok(NULL, "\n"))
		if (!strncmp(line, lab, strlen(lab)) && line[strlen(lab)] == '-')
			n++;
	return n;
}

int emu_host_revive(struct emu_hosts *e, unsigned int k)
{
	char out[256];

	if (k >= e->count || e->sshd[k])
		return -1;
	netlab_sh(out, sizeof(out), "ip netns del %s-h%u; ip link del %s-h%u", e->bridge, k,
		  e->bridge, k);
	return start_host(e, k);
}

static void close_all(const int *fds, int n)
{
	for (int i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int emu_host_node_socket(const struct emu_hosts *e, unsigned int k, const char *lab,
			 unsigned int node, unsigned int port)
{
	char path[128];
	int own_mnt, own_net, cwd, host_mnt, node_net = -1, fd = -1;
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_port = htons(port) };
	int size = 4 << 20;

	if (k >= e->count || !e->sshd[k])
		return -1;
	own_mnt = open("/proc/self/ns/mnt", O_RDONLY | O_CLOEXEC);
	own_net = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	cwd = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	snprintf(path, sizeof(path), "/proc/%d/ns/mnt", (int)e->sshd[k]);
	host_mnt = open(path, O_RDONLY | O_CLOEXEC);
	if (own_mnt >= 0 && own_net >= 0 && cwd >= 0 && host_mnt >= 0 &&
	    !setns(host_mnt, CLONE_NEWNS)) {
		snprintf(path, sizeof(path), "/run/netns/%s-n%u", lab, node);
		node_net = open(path, O_RDONLY | O_CLOEXEC);
		if (setns(own_mnt, CLONE_NEWNS) || fchdir(cwd))
			abort(); /* a test that cannot get back to its own files cannot go on */
	}
	if (node_net >= 0 && !setns(node_net, CLONE_NEWNET)) {
		fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
		if (fd >= 0 && bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
			close(fd);
			fd = -1;
		}
		setns(own_net, CLONE_NEWNET);
	}
	close_all((int[]){ own_mnt, own_net, cwd, host_mnt, node_net }, 5);
	return fd;
}
