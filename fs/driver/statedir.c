/* SPDX-License-Identifier: Apache-2.0 */
/*
 * statedir: the state directory: found, made, checked, locked, and the
 * files in it read and written without following a symbolic link.
 */
#include "statedir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "log.h"

/* What can be done with the directory now. */
enum cond { C_NONE, C_OK, C_MISSING, C_READONLY, C_FULL, C_BUSY, C_THEIRS,
	    C_FAILING };

struct statedir {
	char *path;
	bool parents;                 /* missing parents may be made */
	unsigned char key[STATEFILE_KEY];
	char lockname[STATEFILE_NAME];
	uid_t uid;
	int dfd, lockfd;
	dev_t dev;
	ino_t ino;
	unsigned gen;                 /* directories opened */
	unsigned tmps;                /* temporary files made */
	enum cond cond;
};

int statedir_default(uid_t uid, char *buf, size_t len, bool *parents)
{
	const char *sd = getenv("STATE_DIRECTORY");
	const char *xdg = getenv("XDG_STATE_HOME"), *home = getenv("HOME");
	int n;

	*parents = true;
	if (sd && sd[0] == '/') {
		/* systemd made it (and may list several: the first). */
		*parents = false;
		n = snprintf(buf, len, "%.*s", (int)strcspn(sd, ":"), sd);
	} else if (uid == 0) {
		n = snprintf(buf, len, "/var/lib/interlinkfs");
	} else if (xdg && xdg[0] == '/') {
		n = snprintf(buf, len, "%s/interlinkfs", xdg);
	} else if (home && home[0] == '/') {
		n = snprintf(buf, len, "%s/.local/state/interlinkfs", home);
	} else {
		return -ENOENT;
	}
	return n > 0 && (size_t)n < len ? 0 : -ENAMETOOLONG;
}

/* ---- conditions ---------------------------------------------------------- */

static enum cond cond_of(int err)
{
	switch (-err) {
	case EROFS: case EACCES: case EPERM: return C_READONLY;
	case ENOSPC: case EDQUOT: return C_FULL;
	case ENOENT: case ENOTDIR: return C_MISSING;
	case ELOOP: return C_THEIRS;
	default: return C_FAILING;
	}
}

/* The condition becomes c (detail: what a person needs), said once. */
static void set_cond(struct statedir *d, enum cond c, const char *detail)
{
	static const char *const what[] = {
		[C_MISSING] = "is missing", [C_READONLY] = "is read-only",
		[C_FULL] = "is full", [C_BUSY] = "is in use",
		[C_THEIRS] = "is refused", [C_FAILING] = "fails",
	};

	if (c == d->cond)
		return;
	if (c == C_OK && d->cond != C_NONE)
		log_warn("state directory %s: saving again", d->path);
	else if (c != C_OK)
		log_warn("state directory %s %s (%s): nothing is saved until "
			 "it can be written; the mount serves as without it",
			 d->path, what[c], detail);
	d->cond = c;
}

void statedir_failed(struct statedir *d, const char *what, int err)
{
	char detail[256];

	snprintf(detail, sizeof detail, "%s: %s", what, strerror(-err));
	set_cond(d, cond_of(err), detail);
}

void statedir_ok(struct statedir *d)
{
	set_cond(d, C_OK, "");
}

/* ---- the directory -------------------------------------------------------- */

/* Makes path (its parents too when d allows), 0700: 0 or -errno. */
static int make(struct statedir *d)
{
	char *p = d->path;

	for (char *s = d->parents ? strchr(p + 1, '/') : NULL; s;
	     s = strchr(s + 1, '/')) {
		*s = '\0';
		int rc = mkdir(p, 0700) < 0 && errno != EEXIST ? -errno : 0;
		*s = '/';
		if (rc)
			return rc;
	}
	return mkdir(p, 0700) < 0 && errno != EEXIST ? -errno : 0;
}

/* A refusal: at mount, one line and the mount stops (-1); later, the
 * condition (1). */
static int refuse(struct statedir *d, bool mount, enum cond c,
		  const char *why)
{
	if (mount) {
		fprintf(stderr, "interlinkfs: state directory %s: %s\n",
			d->path, why);
		return -1;
	}
	set_cond(d, c, why);
	return 1;
}

/* The lock of d's key: 0, -1 / 1 as refuse(), or 2 when it cannot be
 * taken yet (the directory cannot be written: tried again later). */
static int take_lock(struct statedir *d, bool mount)
{
	char why[200], pid[32] = "";
	struct stat st;
	int fd = openat(d->dfd, d->lockname, O_RDWR | O_CREAT | O_NOFOLLOW |
			O_CLOEXEC, 0600);
	int err = errno;

	/* A read-only directory: its lock file is enough to lock. */
	if (fd < 0 && err != ELOOP)
		fd = openat(d->dfd, d->lockname, O_RDONLY | O_NOFOLLOW |
			    O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || err == ELOOP)
			return refuse(d, mount, C_THEIRS, "a symbolic link "
				      "where the lock file goes: refused");
		statedir_failed(d, "the lock file", -(errno == ENOENT ? err :
						       errno));
		return 2;
	}
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_uid != d->uid) {
		close(fd);
		return refuse(d, mount, C_THEIRS, "its lock file is not a "
			      "file of the user who mounts: refused");
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		ssize_t n = pread(fd, pid, sizeof pid - 1, 0);

		pid[n > 0 ? n : 0] = '\0';
		pid[strcspn(pid, "\n")] = '\0';
		close(fd);
		snprintf(why, sizeof why, "in use by another mount of the same "
			 "account, API and filters (pid %s): two would mix "
			 "their files; give this one another -o state_dir= (or "
			 "state_dir=none)", pid[0] ? pid : "unknown");
		return refuse(d, mount, C_BUSY, why);
	}
	d->lockfd = fd;
	statedir_own(d);
	return 0;
}

/* Opens (makes) the directory: 0, -1 / 1 as refuse(), or 2 when it
 * cannot be used yet (said, tried again later). */
static int open_dir(struct statedir *d, bool mount)
{
	struct stat st;
	int fd, rc;

	if (lstat(d->path, &st) < 0) {
		rc = errno == ENOENT ? make(d) : -errno;
		if (!rc && lstat(d->path, &st) < 0)
			rc = -errno;
		if (rc) {
			statedir_failed(d, "making it", rc);
			return 2;
		}
	}
	if (S_ISLNK(st.st_mode))
		return refuse(d, mount, C_THEIRS, "a symbolic link: refused "
			      "(give the directory it points to)");
	if (!S_ISDIR(st.st_mode))
		return refuse(d, mount, C_THEIRS, "not a directory");
	fd = open(d->path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		rc = -errno;
		if (fd >= 0)
			close(fd);
		statedir_failed(d, "opening it", rc);
		return 2;
	}
	if (st.st_uid != d->uid) {
		char why[160];

		close(fd);
		snprintf(why, sizeof why, "belongs to uid %ld, not to the user "
			 "who mounts (uid %ld): refused", (long)st.st_uid,
			 (long)d->uid);
		return refuse(d, mount, C_THEIRS, why);
	}
	/* What it holds is the account's own: for its user alone. */
	if ((st.st_mode & 077) && fchmod(fd, 0700) == 0)
		log_info("state directory %s: made 0700", d->path);
	d->dfd = fd;
	d->dev = st.st_dev;
	d->ino = st.st_ino;
	d->gen++;
	return take_lock(d, mount);
}

static void close_dir(struct statedir *d)
{
	if (d->lockfd >= 0)
		close(d->lockfd);
	if (d->dfd >= 0)
		close(d->dfd);
	d->lockfd = d->dfd = -1;
}

int statedir_open(const char *path, bool parents,
		  const unsigned char key[STATEFILE_KEY], uid_t uid,
		  struct statedir **out)
{
	struct statedir *d = calloc(1, sizeof *d);

	if (!d || !(d->path = strdup(path))) {
		free(d);
		fprintf(stderr, "interlinkfs: out of memory\n");
		return -1;
	}
	d->parents = parents;
	memcpy(d->key, key, STATEFILE_KEY);
	statefile_name(key, SF_LOCK, NULL, NULL, d->lockname);
	d->uid = uid;
	d->dfd = d->lockfd = -1;
	if (open_dir(d, true) < 0) {
		statedir_close(d);
		return -1;
	}
	*out = d;
	return 0;
}

void statedir_close(struct statedir *d)
{
	if (!d)
		return;
	close_dir(d);
	free(d->path);
	free(d);
}

const char *statedir_path(const struct statedir *d)
{
	return d->path;
}

const unsigned char *statedir_key(const struct statedir *d)
{
	return d->key;
}

void statedir_own(struct statedir *d)
{
	char pid[32];
	int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());

	if (d->lockfd >= 0 && ftruncate(d->lockfd, 0) == 0 &&
	    pwrite(d->lockfd, pid, (size_t)n, 0) != n)
		log_debug("state directory %s: the lock file holds no pid",
			  d->path);
}

bool statedir_ready(struct statedir *d)
{
	struct stat st;

	/* Gone, or another directory in its place: opened (made) again. */
	if (d->dfd >= 0 && (lstat(d->path, &st) < 0 || st.st_dev != d->dev ||
			    st.st_ino != d->ino))
		close_dir(d);
	if (d->dfd < 0 && open_dir(d, false))
		return false;
	if (d->lockfd < 0 && take_lock(d, false))
		return false;
	return true;
}

unsigned statedir_generation(const struct statedir *d)
{
	return d->gen;
}

/* ---- files -------------------------------------------------------------- */

/* The whole of iov to fd: 0 or -errno. */
static int write_all(int fd, const struct iovec *iov, int n, off_t at)
{
	for (int i = 0; i < n; i++) {
		const char *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left) {
			ssize_t w = at < 0 ? write(fd, p, left) :
				    pwrite(fd, p, left, at);
			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0)
				return w < 0 ? -errno : -EIO;
			p += w;
			left -= (size_t)w;
			if (at >= 0)
				at += w;
		}
	}
	return 0;
}

int statedir_write(struct statedir *d, const char *name,
		   const struct iovec *iov, int n)
{
	char tmp[STATEFILE_NAME + 48];
	int fd, rc = 0;

	snprintf(tmp, sizeof tmp, ".%s.%ld.%u.tmp", name, (long)getpid(),
		 d->tmps++);
	fd = openat(d->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW |
		    O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	rc = write_all(fd, iov, n, -1);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	/* The rename is what makes it the file: never half of one. */
	if (!rc && renameat(d->dfd, tmp, d->dfd, name) < 0)
		rc = -errno;
	if (rc) {
		unlinkat(d->dfd, tmp, 0);
		return rc;
	}
	return fsync(d->dfd) < 0 ? -errno : 0;
}

/* fd's file is a regular file of d's user (why says when not). */
static int ours(struct statedir *d, int fd, struct stat *st, char *why,
		size_t whylen)
{
	if (fstat(fd, st) < 0)
		return -errno;
	if (!S_ISREG(st->st_mode)) {
		snprintf(why, whylen, "not a regular file");
		return -EINVAL;
	}
	if (st->st_uid != d->uid) {
		snprintf(why, whylen, "it belongs to uid %ld, not to the user "
			 "who mounts", (long)st->st_uid);
		return -EPERM;
	}
	return 0;
}

int statedir_read(struct statedir *d, const char *name, size_t max,
		  char **out, size_t *len, char *why, size_t whylen)
{
	struct stat st;
	char *buf = NULL;
	size_t got = 0;
	int fd, rc;

	*out = NULL;
	*len = 0;
	fd = openat(d->dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC);
	if (fd < 0) {
		rc = -errno;
		snprintf(why, whylen, "%s", rc == -ELOOP ? "a symbolic link: "
			 "not followed" : strerror(-rc));
		return rc;
	}
	if ((rc = ours(d, fd, &st, why, whylen)))
		goto out;
	if ((size_t)st.st_size > max) {
		snprintf(why, whylen, "larger than %zu bytes", max);
		rc = -EFBIG;
		goto out;
	}
	if (!(buf = malloc((size_t)st.st_size + 1))) {
		rc = -ENOMEM;
		goto out;
	}
	while (got < (size_t)st.st_size) {
		ssize_t r = read(fd, buf + got, (size_t)st.st_size - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		got += (size_t)r;
	}
	buf[got] = '\0';
	*out = buf;
	*len = got;
	buf = NULL;
out:
	if (rc && !why[0])
		snprintf(why, whylen, "%s", strerror(-rc));
	free(buf);
	close(fd);
	return rc;
}

int statedir_append(struct statedir *d, const char *name, size_t at,
		    const char *text, size_t len)
{
	struct iovec iov = {(void *)text, len};
	struct stat st;
	char why[96];
	int fd = openat(d->dfd, name, O_WRONLY | O_NOFOLLOW | O_CLOEXEC |
			(at == (size_t)-1 ? O_APPEND : 0));
	int rc;

	if (fd < 0)
		return -errno;
	if (!(rc = ours(d, fd, &st, why, sizeof why)) && at != (size_t)-1 &&
	    ftruncate(fd, (off_t)at) < 0)
		rc = -errno;
	if (!rc)
		rc = write_all(fd, &iov, 1, at == (size_t)-1 ? -1 : (off_t)at);
	if (!rc && fdatasync(fd) < 0)
		rc = -errno;
	close(fd);
	return rc;
}

void statedir_each(struct statedir *d, const char *prefix,
		   void (*fn)(void *ud, const char *name), void *ud)
{
	int fd = dup(d->dfd);
	DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!dir) {
		if (fd >= 0)
			close(fd);
		return;
	}
	rewinddir(dir);
	while ((e = readdir(dir)))
		if (strncmp(e->d_name, prefix, strlen(prefix)) == 0)
			fn(ud, e->d_name);
	closedir(dir);
}

int statedir_unlink(struct statedir *d, const char *name)
{
	return unlinkat(d->dfd, name, 0) < 0 ? -errno : 0;
}
