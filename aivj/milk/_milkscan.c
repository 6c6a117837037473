/* The .milk tokenizer of aivj/milk/parser.py (_scan_python) in one C pass: the parser's hot path.
 *
 * scan(text) -> (entries, duplicates, section, low_keys, keys), or None when the text is not a 1-byte
 * (Latin-1 range) string: the caller then runs the pure-Python tokenizer. Every Debian preset is
 * 1-byte text; handling the 2- and 4-byte kinds here would double the code for no measured gain.
 *
 * The results must equal _scan_python's bit for bit (tests/test_milk_scan.py runs both), so this
 * follows its quirks exactly:
 *   - a line ends at '\r' or '\n' ("\r\n" gives an extra empty line, which holds no '=' and is dropped);
 *   - key = text before the first '=', value = the rest, str.strip()ped (Python's whitespace: ASCII
 *     9-13, 28-32, and U+0085, U+00A0 in the Latin-1 range: Py_UNICODE_ISSPACE);
 *   - keys are stripped only when some key holds a ' ' or '\t' (Python strips all or none);
 *   - keys are lower-cased (ASCII here; str.lower() for a non-ASCII key), the last value wins,
 *     duplicates = lines with '=' - distinct keys, and the empty key is dropped after counting;
 *   - section: the first line that starts with '[' (the first line may be indented by spaces/tabs),
 *     ends with ']' once stripped and holds no '=': its inside, stripped and lower-cased.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

typedef struct {
    Py_ssize_t key0, key1, val0, val1; /* [key0, key1) and [val0, val1) index the text */
} Span;

static int is_space(Py_UCS1 c) { return Py_UNICODE_ISSPACE(c); }

static void strip(const Py_UCS1 *s, Py_ssize_t *a, Py_ssize_t *b)
{
    while (*a < *b && is_space(s[*a])) (*a)++;
    while (*b > *a && is_space(s[*b - 1])) (*b)--;
}

/* text[a:b].lower(); *lowered is set when the result differs from text[a:b] (the key's spelling
 * then has to be kept as its own string). */
static PyObject *lower_slice(PyObject *text, const Py_UCS1 *s, Py_ssize_t a, Py_ssize_t b, int *lowered)
{
    PyObject *low = PyUnicode_New(b - a, 127);
    if (low == NULL) return NULL;
    Py_UCS1 *out = PyUnicode_1BYTE_DATA(low);
    int upper = 0;
    for (Py_ssize_t i = a; i < b; i++) {
        Py_UCS1 c = s[i];
        if (c >= 0x80) break; /* not ASCII: left to str.lower() below */
        upper |= c >= 'A' && c <= 'Z';
        *out++ = c | (Py_UCS1)((c >= 'A' && c <= 'Z') << 5);
    }
    *lowered = upper;
    if (out == PyUnicode_1BYTE_DATA(low) + (b - a)) return low;
    Py_DECREF(low); /* rare: Latin-1 letters in a key; str.lower() knows their case mapping */
    PyObject *slice = PyUnicode_Substring(text, a, b);
    if (slice == NULL) return NULL;
    low = PyObject_CallMethod(slice, "lower", NULL);
    if (low != NULL) {
        int cmp = PyUnicode_Compare(low, slice);
        if (cmp == -1 && PyErr_Occurred()) Py_CLEAR(low);
        *lowered = cmp != 0;
    }
    Py_DECREF(slice);
    return low;
}

/* Pass 1: the spans of every line with a '=', whether keys need stripping, the section's span. */
static Span *find_spans(const Py_UCS1 *s, Py_ssize_t n, Py_ssize_t *count, int *strip_keys,
                        Py_ssize_t *sec0, Py_ssize_t *sec1)
{
    Py_ssize_t cap = 256, used = 0, start = 0;
    Span *spans = PyMem_New(Span, cap);
    if (spans == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    *strip_keys = 0;
    *sec0 = *sec1 = -1;
    while (start < n) {
        Py_ssize_t i = start, eq = -1;
        int blank = 0;
        /* strcspn is vectorised in glibc. It also stops at NUL: s[n] is the str's terminating NUL,
         * and a NUL inside the text just continues the line, as in Python. */
        for (;; i++) { /* the key: up to '=' or the line's end */
            i += (Py_ssize_t)strcspn((const char *)s + i, "\r\n= \t");
            if (s[i] == ' ' || s[i] == '\t') blank = 1;
            else if (s[i] != 0 || i == n) break;
        }
        if (s[i] == '=') {
            eq = i++;
            for (;; i++) { /* the value: up to the line's end */
                i += (Py_ssize_t)strcspn((const char *)s + i, "\r\n");
                if (s[i] != 0 || i == n) break;
            }
        }
        /* the line is [start, i) */
        if (eq >= 0) {
            if (used == cap) {
                cap *= 2;
                Span *grown = PyMem_Resize(spans, Span, cap);
                if (grown == NULL) {
                    PyMem_Free(spans);
                    PyErr_NoMemory();
                    return NULL;
                }
                spans = grown;
            }
            Span *sp = &spans[used++];
            sp->key0 = start;
            sp->key1 = eq;
            sp->val0 = eq + 1;
            sp->val1 = i;
            strip(s, &sp->val0, &sp->val1);
            *strip_keys |= blank;
        }
        else if (*sec0 < 0) {
            Py_ssize_t p = start, e = i;
            if (start == 0) /* only the file's first line may be indented (parser._section) */
                while (p < e && (s[p] == ' ' || s[p] == '\t')) p++;
            if (p < e && s[p] == '[') {
                while (e > p && is_space(s[e - 1])) e--;
                if (s[e - 1] == ']') { /* s[p] is '[', so e - 1 > p here */
                    *sec0 = p + 1;
                    *sec1 = e - 1;
                    strip(s, sec0, sec1);
                }
            }
        }
        start = i + 1;
    }
    *count = used;
    return spans;
}

/* Pass 2: the Python objects. On error everything made so far is released by the caller's DECREFs. */
static int build(PyObject *text, const Py_UCS1 *s, const Span *spans, Py_ssize_t count, int strip_keys,
                 PyObject *entries, PyObject *lows, PyObject *keys)
{
    int had_empty = 0;
    for (Py_ssize_t k = 0; k < count; k++) {
        Py_ssize_t a = spans[k].key0, b = spans[k].key1;
        int lowered;
        if (strip_keys) strip(s, &a, &b);
        had_empty |= a == b;
        PyObject *low = lower_slice(text, s, a, b, &lowered);
        if (low == NULL) return -1;
        PyList_SET_ITEM(lows, k, low); /* the list owns it from here */
        PyObject *key = lowered ? PyUnicode_Substring(text, a, b) : Py_NewRef(low);
        if (key == NULL) return -1;
        PyList_SET_ITEM(keys, k, key);
        PyObject *value = PyUnicode_Substring(text, spans[k].val0, spans[k].val1);
        if (value == NULL) return -1;
        int failed = PyDict_SetItem(entries, low, value);
        Py_DECREF(value);
        if (failed) return -1;
    }
    return had_empty;
}

static PyObject *scan(PyObject *Py_UNUSED(module), PyObject *text)
{
    if (!PyUnicode_Check(text)) {
        PyErr_Format(PyExc_TypeError, "scan() wants str, not %.80s", Py_TYPE(text)->tp_name);
        return NULL;
    }
    if (PyUnicode_READY(text) < 0) return NULL;
    if (PyUnicode_KIND(text) != PyUnicode_1BYTE_KIND) Py_RETURN_NONE;
    const Py_UCS1 *s = PyUnicode_1BYTE_DATA(text);
    Py_ssize_t count, sec0, sec1;
    int strip_keys;
    Span *spans = find_spans(s, PyUnicode_GET_LENGTH(text), &count, &strip_keys, &sec0, &sec1);
    if (spans == NULL) return NULL;

    PyObject *result = NULL, *section = NULL;
#if PY_VERSION_HEX < 0x030D0000
    PyObject *entries = _PyDict_NewPresized(count); /* no resizes while filling */
#else
    PyObject *entries = PyDict_New();
#endif
    PyObject *lows = PyList_New(count); /* NULL slots until filled: safe to DECREF */
    PyObject *keys = PyList_New(count);
    if (entries == NULL || lows == NULL || keys == NULL) goto done;
    int had_empty = build(text, s, spans, count, strip_keys, entries, lows, keys);
    if (had_empty < 0) goto done;
    Py_ssize_t duplicates = count - PyDict_GET_SIZE(entries); /* counted before "" is dropped */
    if (had_empty) {
        PyObject *empty = PyUnicode_New(0, 0);
        if (empty == NULL) goto done;
        int failed = PyDict_DelItem(entries, empty);
        Py_DECREF(empty);
        if (failed) goto done;
    }
    if (sec0 >= 0) {
        int lowered;
        section = lower_slice(text, s, sec0, sec1, &lowered);
        if (section == NULL) goto done;
    }
    else section = Py_NewRef(Py_None);
    result = PyTuple_New(5);
    if (result == NULL) goto done;
    PyObject *dup = PyLong_FromSsize_t(duplicates);
    if (dup == NULL) {
        Py_CLEAR(result);
        goto done;
    }
    PyTuple_SET_ITEM(result, 0, Py_NewRef(entries));
    PyTuple_SET_ITEM(result, 1, dup);
    PyTuple_SET_ITEM(result, 2, Py_NewRef(section));
    PyTuple_SET_ITEM(result, 3, Py_NewRef(lows));
    PyTuple_SET_ITEM(result, 4, Py_NewRef(keys));
done:
    PyMem_Free(spans);
    Py_XDECREF(entries);
    Py_XDECREF(lows);
    Py_XDECREF(keys);
    Py_XDECREF(section);
    return result;
}

static PyMethodDef methods[] = {
    {"scan", scan, METH_O,
     "scan(text) -> (entries, duplicates, section, low_keys, keys), or None for text beyond Latin-1."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_milkscan",
                                    "The compiled .milk tokenizer (see aivj/milk/parser.py).", -1, methods};

PyMODINIT_FUNC PyInit__milkscan(void)
{
    return PyModule_Create(&module);
}
