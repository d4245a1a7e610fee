/* One system call per socket for a tick's datagrams (sendmmsg(2)), instead of one Python call
 * and one system call per datagram. parley/media/datagrams.py is the only caller and keeps a
 * pure-Python fallback for machines where this does not build (it is Linux-only).
 *
 * send_batch(entries) takes a list of (fd, sockaddr, data) tuples: fd a non-blocking UDP socket,
 * sockaddr the destination already packed as the kernel's struct sockaddr (datagrams.py packs it
 * once per listener), data the datagram. Consecutive entries on the same fd go in one sendmmsg.
 * It returns the list of indexes of entries that were not sent (a full socket buffer, an ICMP
 * error left on the socket): UDP audio that cannot go now is dropped, never retried later.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <errno.h>
#include <string.h>
#include <sys/socket.h>

#define CHUNK 64

static int fail(PyObject *failed, Py_ssize_t index) {
    PyObject *number = PyLong_FromSsize_t(index);
    if (number == NULL) return -1;
    int rc = PyList_Append(failed, number);
    Py_DECREF(number);
    return rc;
}

/* Sends entries [start, end), all on `fd`; appends the indexes that were not sent. */
static int send_run(PyObject *entries, Py_ssize_t start, Py_ssize_t end, int fd,
                    PyObject *failed) {
    struct mmsghdr messages[CHUNK];
    struct iovec vectors[CHUNK];
    Py_ssize_t at = start;
    while (at < end) {
        unsigned int count = 0;
        for (; at + count < end && count < CHUNK; count++) {
            PyObject *entry = PyList_GET_ITEM(entries, at + count);
            PyObject *address = PyTuple_GET_ITEM(entry, 1);
            PyObject *data = PyTuple_GET_ITEM(entry, 2);
            memset(&messages[count], 0, sizeof(messages[count]));
            vectors[count].iov_base = PyBytes_AS_STRING(data);
            vectors[count].iov_len = (size_t)PyBytes_GET_SIZE(data);
            messages[count].msg_hdr.msg_name = PyBytes_AS_STRING(address);
            messages[count].msg_hdr.msg_namelen = (socklen_t)PyBytes_GET_SIZE(address);
            messages[count].msg_hdr.msg_iov = &vectors[count];
            messages[count].msg_hdr.msg_iovlen = 1;
        }
        unsigned int done = 0;
        while (done < count) {
            /* MSG_DONTWAIT: never blocks, so the GIL stays held and the list stays ours. */
            int sent = sendmmsg(fd, messages + done, count - done, MSG_DONTWAIT);
            if (sent > 0) {
                done += (unsigned int)sent;
            } else if (sent < 0 && errno == EINTR) {
                continue;
            } else {
                /* The first message failed (sendmmsg reports an error only then): skip it. */
                if (fail(failed, at + done) < 0) return -1;
                done += 1;
            }
        }
        at += count;
    }
    return 0;
}

static PyObject *send_batch(PyObject *module, PyObject *entries) {
    (void)module;
    if (!PyList_Check(entries)) {
        PyErr_SetString(PyExc_TypeError, "send_batch takes a list of (fd, sockaddr, data)");
        return NULL;
    }
    Py_ssize_t total = PyList_GET_SIZE(entries);
    for (Py_ssize_t i = 0; i < total; i++) {
        PyObject *entry = PyList_GET_ITEM(entries, i);
        if (!PyTuple_Check(entry) || PyTuple_GET_SIZE(entry) != 3 ||
            !PyLong_Check(PyTuple_GET_ITEM(entry, 0)) ||
            !PyBytes_Check(PyTuple_GET_ITEM(entry, 1)) ||
            !PyBytes_Check(PyTuple_GET_ITEM(entry, 2))) {
            PyErr_Format(PyExc_TypeError, "entry %zd is not (int fd, bytes sockaddr, bytes data)",
                         i);
            return NULL;
        }
    }
    PyObject *failed = PyList_New(0);
    if (failed == NULL) return NULL;
    Py_INCREF(entries);
    Py_ssize_t start = 0;
    while (start < total) {
        long fd = PyLong_AsLong(PyTuple_GET_ITEM(PyList_GET_ITEM(entries, start), 0));
        if (fd == -1 && PyErr_Occurred()) goto error;
        Py_ssize_t end = start + 1;
        while (end < total &&
               PyLong_AsLong(PyTuple_GET_ITEM(PyList_GET_ITEM(entries, end), 0)) == fd) {
            end++;
        }
        if (PyErr_Occurred()) goto error;
        if (send_run(entries, start, end, (int)fd, failed) < 0) goto error;
        start = end;
    }
    Py_DECREF(entries);
    return failed;
error:
    Py_DECREF(entries);
    Py_DECREF(failed);
    return NULL;
}

static PyMethodDef methods[] = {
    {"send_batch", send_batch, METH_O,
     "send_batch(entries: list[tuple[int, bytes, bytes]]) -> list[int]\n"
     "Send each (fd, sockaddr, data) with sendmmsg, one call per run of the same fd; the\n"
     "indexes of the entries that were not sent."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_sendmmsg", "Batched UDP sends with sendmmsg(2).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__sendmmsg(void) { return PyModule_Create(&module); }
