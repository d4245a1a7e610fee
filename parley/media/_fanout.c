/* The program packet to every listener in one C loop: per listener, copy the packet's RTP header
 * and payload (written once by aiortc for the listener's header layout), patch in the listener's
 * sequence number, timestamp and SSRC, protect it with libsrtp's srtp_protect on the listener's
 * own SRTP context, and send it with sendmmsg from the listener's socket. No Python per listener
 * per packet: at 800 listeners that Python was most of the send path (docs/benchmarks.md).
 *
 * parley/media/native_send.py is the only caller. It hands over, per listener ("wiring" it):
 * the pylibsrtp Session (kept referenced here, so its srtp_t cannot be freed while in use), the
 * address of that session's srtp_t and of srtp_protect from pylibsrtp's own libsrtp (so both
 * are the same library instance and version: srtp_internals.py, checked at start-up), the
 * listener's socket (duplicated here, so a number asyncio closes and reuses never carries
 * another listener's audio), the destination as a packed struct sockaddr, and the stream's
 * numbering. The numbering and the sender-report figures (packets and octets that went, the
 * last packet's RTP and NTP timestamps) live here while it is wired; Python reads them back
 * every few packets for aiortc's RTCP sender reports, and when it unwires the listener.
 *
 * A datagram that cannot go now (a full socket buffer) is dropped, never queued: live audio.
 */
#define _GNU_SOURCE
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define CHUNK 64
#define DATAGRAM_MAX 1500
/* libsrtp 2's SRTP_MAX_TRAILER_LEN: the longest tag plus the longest MKI. */
#define TRAILER_MAX 144
#define RTP_HEADER 12

/* libsrtp 2: srtp_err_status_t srtp_protect(srtp_t ctx, void *rtp_hdr, int *len_ptr). */
typedef int (*protect_fn)(void *context, void *packet, int *length);

typedef struct {
    int used;
    PyObject *session; /* the pylibsrtp Session that owns `srtp` */
    void *srtp;
    int fd; /* our own duplicate of the listener's socket */
    struct sockaddr_storage address;
    socklen_t address_length;
    uint32_t ssrc;
    uint32_t origin; /* the stream's first RTP timestamp, added to the program's */
    uint16_t sequence;
    Py_ssize_t layout;
    unsigned long long packets;
    unsigned long long octets;
    uint32_t timestamp; /* RTP timestamp of the last packet that went */
    unsigned long long ntp; /* NTP time of the last packet that went */
} Entry;

typedef struct {
    PyObject_HEAD
    protect_fn protect;
    Entry *entries;
    Py_ssize_t length;   /* slots in use or free */
    Py_ssize_t capacity; /* slots allocated */
    unsigned long long sent;
    unsigned long long dropped; /* protected, but the kernel would not take it now */
    unsigned long long refused; /* libsrtp refused to protect it, or it was too long */
    unsigned char (*buffers)[DATAGRAM_MAX];
} Fanout;

static void put16(unsigned char *at, uint16_t value) {
    at[0] = (unsigned char)(value >> 8);
    at[1] = (unsigned char)value;
}

static void put32(unsigned char *at, uint32_t value) {
    at[0] = (unsigned char)(value >> 24);
    at[1] = (unsigned char)(value >> 16);
    at[2] = (unsigned char)(value >> 8);
    at[3] = (unsigned char)value;
}

static void clear_entry(Entry *entry) {
    if (entry->fd >= 0) close(entry->fd);
    Py_CLEAR(entry->session);
    memset(entry, 0, sizeof(*entry));
    entry->fd = -1;
}

static int Fanout_init(Fanout *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"protect", NULL};
    unsigned long long protect = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "K", names, &protect)) return -1;
    if (protect == 0) {
        PyErr_SetString(PyExc_ValueError, "the address of srtp_protect is needed");
        return -1;
    }
    self->protect = (protect_fn)(uintptr_t)protect;
    if (self->buffers == NULL) {
        self->buffers = PyMem_Calloc(CHUNK, DATAGRAM_MAX);
        if (self->buffers == NULL) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

static void Fanout_dealloc(Fanout *self) {
    for (Py_ssize_t i = 0; i < self->length; i++) {
        if (self->entries[i].used) clear_entry(&self->entries[i]);
    }
    PyMem_Free(self->entries);
    PyMem_Free(self->buffers);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static Py_ssize_t free_slot(Fanout *self) {
    for (Py_ssize_t i = 0; i < self->length; i++) {
        if (!self->entries[i].used) return i;
    }
    if (self->length == self->capacity) {
        Py_ssize_t capacity = self->capacity ? 2 * self->capacity : 64;
        Entry *grown = PyMem_Realloc(self->entries, (size_t)capacity * sizeof(Entry));
        if (grown == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        self->entries = grown;
        self->capacity = capacity;
    }
    return self->length++;
}

static Entry *entry_at(Fanout *self, Py_ssize_t slot) {
    if (slot < 0 || slot >= self->length || !self->entries[slot].used) {
        PyErr_Format(PyExc_KeyError, "no listener is wired at slot %zd", slot);
        return NULL;
    }
    return &self->entries[slot];
}

static PyObject *Fanout_wire(Fanout *self, PyObject *args, PyObject *kwargs) {
    static char *names[] = {"session", "srtp", "fd", "sockaddr", "ssrc", "sequence", "origin",
                            "layout", "packets", "octets", NULL};
    PyObject *session;
    unsigned long long srtp, packets, octets;
    int fd;
    Py_buffer sockaddr;
    unsigned long ssrc, origin;
    unsigned int sequence;
    Py_ssize_t layout;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OKiy*kIknKK", names, &session, &srtp, &fd,
                                     &sockaddr, &ssrc, &sequence, &origin, &layout, &packets,
                                     &octets)) {
        return NULL;
    }
    PyObject *result = NULL;
    if (srtp == 0 || fd < 0 || layout < 0 || sequence > 0xFFFF ||
        sockaddr.len > (Py_ssize_t)sizeof(struct sockaddr_storage) || sockaddr.len <= 0) {
        PyErr_SetString(PyExc_ValueError, "wire() needs an SRTP context, a socket, an address, "
                                          "a 16-bit sequence number and a layout");
        goto done;
    }
    Py_ssize_t slot = free_slot(self);
    if (slot < 0) goto done;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (copy < 0) {
        PyErr_SetFromErrno(PyExc_OSError);
        goto done;
    }
    Entry *entry = &self->entries[slot];
    memset(entry, 0, sizeof(*entry));
    entry->used = 1;
    Py_INCREF(session);
    entry->session = session;
    entry->srtp = (void *)(uintptr_t)srtp;
    entry->fd = copy;
    memcpy(&entry->address, sockaddr.buf, (size_t)sockaddr.len);
    entry->address_length = (socklen_t)sockaddr.len;
    entry->ssrc = (uint32_t)ssrc;
    entry->origin = (uint32_t)origin;
    entry->sequence = (uint16_t)sequence;
    entry->layout = layout;
    entry->packets = packets;
    entry->octets = octets;
    result = PyLong_FromSsize_t(slot);
done:
    PyBuffer_Release(&sockaddr);
    return result;
}

static PyObject *stream_of(Entry *entry) {
    return Py_BuildValue("(IKKkK)", (unsigned int)entry->sequence, entry->packets,
                         entry->octets, (unsigned long)entry->timestamp, entry->ntp);
}

static PyObject *Fanout_stream(Fanout *self, PyObject *arg) {
    Py_ssize_t slot = PyLong_AsSsize_t(arg);
    if (slot == -1 && PyErr_Occurred()) return NULL;
    Entry *entry = entry_at(self, slot);
    return entry == NULL ? NULL : stream_of(entry);
}

static PyObject *Fanout_unwire(Fanout *self, PyObject *arg) {
    Py_ssize_t slot = PyLong_AsSsize_t(arg);
    if (slot == -1 && PyErr_Occurred()) return NULL;
    Entry *entry = entry_at(self, slot);
    if (entry == NULL) return NULL;
    PyObject *last = stream_of(entry);
    if (last != NULL) clear_entry(entry);
    return last;
}

/* Sends messages [0, count), all on `fd`; the figures of the streams whose datagram went
 * follow. */
static void flush(Fanout *self, struct mmsghdr *messages, const Py_ssize_t *owners,
                  unsigned int count, int fd, uint32_t rtp_time, unsigned long long ntp,
                  unsigned long long octets) {
    unsigned int done = 0;
    while (done < count) {
        /* MSG_DONTWAIT: never blocks, so holding the GIL costs nothing. */
        int sent = sendmmsg(fd, messages + done, count - done, MSG_DONTWAIT);
        if (sent > 0) {
            for (unsigned int k = done; k < done + (unsigned int)sent; k++) {
                Entry *entry = &self->entries[owners[k]];
                entry->packets += 1;
                entry->octets += octets;
                entry->timestamp = entry->origin + rtp_time;
                entry->ntp = ntp;
            }
            done += (unsigned int)sent;
            self->sent += (unsigned long long)sent;
        } else if (sent < 0 && errno == EINTR) {
            continue;
        } else {
            /* The first message failed (sendmmsg reports an error only then): drop it. */
            self->dropped += 1;
            done += 1;
        }
    }
}

static PyObject *Fanout_send(Fanout *self, PyObject *args) {
    PyObject *templates;
    unsigned long rtp_time;
    unsigned long long ntp, octets;
    if (!PyArg_ParseTuple(args, "O!kKK", &PyTuple_Type, &templates, &rtp_time, &ntp, &octets)) {
        return NULL;
    }
    Py_ssize_t layouts = PyTuple_GET_SIZE(templates);
    for (Py_ssize_t i = 0; i < layouts; i++) {
        if (!PyBytes_Check(PyTuple_GET_ITEM(templates, i))) {
            PyErr_Format(PyExc_TypeError, "template %zd is not bytes", i);
            return NULL;
        }
    }
    struct mmsghdr messages[CHUNK];
    struct iovec vectors[CHUNK];
    Py_ssize_t owners[CHUNK];
    unsigned int count = 0;
    int chunk_fd = -1;
    unsigned long long before = self->sent;
    for (Py_ssize_t i = 0; i < self->length; i++) {
        Entry *entry = &self->entries[i];
        if (!entry->used || entry->layout >= layouts) continue;
        PyObject *template = PyTuple_GET_ITEM(templates, entry->layout);
        Py_ssize_t size = PyBytes_GET_SIZE(template);
        if (size < RTP_HEADER || size + TRAILER_MAX > DATAGRAM_MAX) {
            self->refused += 1;
            continue;
        }
        if (count == CHUNK || (count > 0 && entry->fd != chunk_fd)) {
            flush(self, messages, owners, count, chunk_fd, (uint32_t)rtp_time, ntp, octets);
            count = 0;
        }
        unsigned char *buffer = self->buffers[count];
        memcpy(buffer, PyBytes_AS_STRING(template), (size_t)size);
        put16(buffer + 2, entry->sequence);
        put32(buffer + 4, entry->origin + (uint32_t)rtp_time);
        put32(buffer + 8, entry->ssrc);
        int length = (int)size;
        if (self->protect(entry->srtp, buffer, &length) != 0 || length <= 0 ||
            length > DATAGRAM_MAX) {
            self->refused += 1;
            continue;
        }
        /* Numbered once protected, sent or not: a datagram dropped below is a loss to the
         * receiver, and libsrtp would refuse the same sequence number twice. */
        entry->sequence = (uint16_t)(entry->sequence + 1);
        memset(&messages[count], 0, sizeof(messages[count]));
        vectors[count].iov_base = buffer;
        vectors[count].iov_len = (size_t)length;
        messages[count].msg_hdr.msg_name = &entry->address;
        messages[count].msg_hdr.msg_namelen = entry->address_length;
        messages[count].msg_hdr.msg_iov = &vectors[count];
        messages[count].msg_hdr.msg_iovlen = 1;
        owners[count] = i;
        chunk_fd = entry->fd;
        count++;
    }
    if (count > 0) flush(self, messages, owners, count, chunk_fd, (uint32_t)rtp_time, ntp, octets);
    return PyLong_FromUnsignedLongLong(self->sent - before);
}

static PyObject *Fanout_len(Fanout *self, PyObject *unused) {
    (void)unused;
    Py_ssize_t wired = 0;
    for (Py_ssize_t i = 0; i < self->length; i++) wired += self->entries[i].used;
    return PyLong_FromSsize_t(wired);
}

static PyMethodDef Fanout_methods[] = {
    {"wire", (PyCFunction)(void (*)(void))Fanout_wire, METH_VARARGS | METH_KEYWORDS,
     "wire(session, srtp, fd, sockaddr, ssrc, sequence, origin, layout, packets, octets) -> "
     "slot\nSend to this listener from now on, numbering its stream from `sequence`."},
    {"unwire", (PyCFunction)Fanout_unwire, METH_O,
     "unwire(slot) -> (sequence, packets, octets, timestamp, ntp)\nStop sending to it; its "
     "stream as it was left."},
    {"stream", (PyCFunction)Fanout_stream, METH_O,
     "stream(slot) -> (sequence, packets, octets, timestamp, ntp)\nThe next sequence number, "
     "packets and payload octets that went, and the last one's RTP and NTP timestamps."},
    {"send", (PyCFunction)Fanout_send, METH_VARARGS,
     "send(templates: tuple[bytes, ...], rtp_time, ntp, octets) -> int\nOne packet to every "
     "wired listener, each from its layout's template; the number of datagrams that went."},
    {"wired", (PyCFunction)Fanout_len, METH_NOARGS, "wired() -> int"},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef Fanout_members[] = {
    {"sent", T_ULONGLONG, offsetof(Fanout, sent), READONLY, "datagrams the kernel took"},
    {"dropped", T_ULONGLONG, offsetof(Fanout, dropped), READONLY,
     "datagrams protected but not taken (a full socket buffer)"},
    {"refused", T_ULONGLONG, offsetof(Fanout, refused), READONLY,
     "packets libsrtp would not protect, or too long to"},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject FanoutType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "parley.media._fanout.Fanout",
    .tp_basicsize = sizeof(Fanout),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Fanout(protect: int): the program to every wired listener, one call per packet.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Fanout_init,
    .tp_dealloc = (destructor)Fanout_dealloc,
    .tp_methods = Fanout_methods,
    .tp_members = Fanout_members,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "_fanout", "The program's SRTP fan-out, in C.", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fanout(void) {
    if (PyType_Ready(&FanoutType) < 0) return NULL;
    PyObject *created = PyModule_Create(&module);
    if (created == NULL) return NULL;
    Py_INCREF(&FanoutType);
    if (PyModule_AddObject(created, "Fanout", (PyObject *)&FanoutType) < 0) {
        Py_DECREF(&FanoutType);
        Py_DECREF(created);
        return NULL;
    }
    return created;
}
