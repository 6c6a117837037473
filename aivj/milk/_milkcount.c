/* The code counts of aivj/milk/features.py (_code_counts_python) in one C pass over a preset's entries.
 *
 * counts(entries, category_ids, skip) -> (lines, warp_lines, comp_lines, tokens, assigned), or None when a
 * code value is not a 1-byte (Latin-1 range) string or an entry is not str: the caller then runs the
 * pure-Python version.
 *   entries       lower-cased key -> value (MilkPreset.entries())
 *   category_ids  code key -> category number, in the order of features._CATEGORIES:
 *                 0 per_frame_init, 1 per_frame, 2 per_pixel, 3 warp, 4 comp, 5-8 wave0-3, 9-12 shape0-3
 *   skip          bit mask of the categories whose text is left out of the token counts (custom
 *                 waves and shapes that are off)
 *   lines         non-empty values per category (13 ints)
 *   warp_lines    0 without a non-empty warp value, else the warp values that are not a lone backtick
 *                 (comp_lines the same for comp)
 *   tokens        occurrences of each of features._TOKEN_WORDS, case-insensitive
 *   assigned      how many of the 10 motion names are assigned at the start of a per_frame/per_pixel
 *                 statement (spaces and tabs ignored; "name==" is a comparison, not an assignment)
 *
 * Why the results equal Python's str.lower() + str.count() on the "\n"-joined text: no token holds a
 * '\n' or overlaps itself, and lower-casing a Latin-1 character never yields an ASCII letter.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>

#define N_CATEGORIES 13
#define PER_FRAME 1
#define PER_PIXEL 2
#define WARP 3
#define COMP 4
#define N_TOKENS 11
#define N_MOTION 10

/* The order of features._TOKEN_WORDS and features._MOTION_NAMES. */
enum { BASS_ATT, MID_ATT, TREB_ATT, BASS, MID, TREB, TIME, FRAME, FPS, SIN, COS };
static const char *const MOTION[N_MOTION] = {"zoom", "rot", "warp", "cx", "cy", "dx", "dy", "sx", "sy", "decay"};

static inline Py_UCS1 lower(Py_UCS1 c) { return (c >= 'A' && c <= 'Z') ? (Py_UCS1)(c + 32) : c; }

/* Does s[i:] start with word (case-insensitive)? */
static int at(const Py_UCS1 *s, Py_ssize_t i, Py_ssize_t n, const char *word)
{
    for (; *word; word++, i++)
        if (i >= n || lower(s[i]) != (Py_UCS1)*word) return 0;
    return 1;
}

static void count_tokens(const Py_UCS1 *s, Py_ssize_t n, long *tok)
{
    for (Py_ssize_t i = 0; i < n; i++) {
        switch (lower(s[i])) {
        case 'b':
            if (at(s, i, n, "bass")) {
                tok[BASS]++;
                tok[BASS_ATT] += at(s, i + 4, n, "_att");
            }
            break;
        case 'm':
            if (at(s, i, n, "mid")) {
                tok[MID]++;
                tok[MID_ATT] += at(s, i + 3, n, "_att");
            }
            break;
        case 't':
            if (at(s, i, n, "treb")) {
                tok[TREB]++;
                tok[TREB_ATT] += at(s, i + 4, n, "_att");
            }
            else tok[TIME] += at(s, i, n, "time");
            break;
        case 'f':
            tok[FRAME] += at(s, i, n, "frame");
            tok[FPS] += at(s, i, n, "fps");
            break;
        case 's': tok[SIN] += at(s, i, n, "sin"); break;
        case 'c': tok[COS] += at(s, i, n, "cos"); break;
        }
    }
}

/* Bits of the motion names assigned by the statements of one equation line (statements end at ';' or at
 * a newline, as in _assigned; parsed values hold no newline, presets built in code may).
 * Python removes every space and tab first, so a name may be spread out ("z oom = 1"). */
static int assigned_names(const Py_UCS1 *s, Py_ssize_t n)
{
    int bits = 0;
    for (Py_ssize_t i = 0; i <= n;) { /* i is the start of a statement */
        char head[8] = {0}; /* its first 7 characters besides spaces and tabs, lower-cased */
        int len = 0;
        for (Py_ssize_t j = i; j < n && len < 7; j++)
            if (s[j] != ' ' && s[j] != '\t') head[len++] = (char)lower(s[j]);
        for (int k = 0; k < N_MOTION; k++) {
            size_t m = strlen(MOTION[k]);
            if (memcmp(head, MOTION[k], m) == 0 && head[m] == '=' && head[m + 1] != '=') bits |= 1 << k;
        }
        Py_ssize_t end = i;
        while (end < n && s[end] != ';' && s[end] != '\n') end++;
        if (end >= n) break;
        i = end + 1;
    }
    return bits;
}

static PyObject *counts(PyObject *Py_UNUSED(module), PyObject *args)
{
    PyObject *entries, *category_ids, *key, *value;
    unsigned long skip;
    if (!PyArg_ParseTuple(args, "O!O!k", &PyDict_Type, &entries, &PyDict_Type, &category_ids, &skip)) return NULL;
    long lines[N_CATEGORIES] = {0}, all[N_CATEGORIES] = {0}, backticks[N_CATEGORIES] = {0}, tok[N_TOKENS] = {0};
    int assigned = 0;
    Py_ssize_t pos = 0;
    while (PyDict_Next(entries, &pos, &key, &value)) {
        /* Exact str keys: the lookup below then runs no Python code that could change entries under
         * PyDict_Next. Anything else (never made by the parser) is left to the Python version. */
        if (!PyUnicode_CheckExact(key) || !PyUnicode_Check(value)) Py_RETURN_NONE;
        PyObject *id_object = PyDict_GetItemWithError(category_ids, key); /* borrowed */
        if (id_object == NULL) {
            if (PyErr_Occurred()) return NULL;
            continue; /* a base value or an unusual key: not code */
        }
        long id = PyLong_AsLong(id_object);
        if (id == -1 && PyErr_Occurred()) return NULL;
        if (id < 0 || id >= N_CATEGORIES) return PyErr_Format(PyExc_ValueError, "category %ld out of range", id);
        if (PyUnicode_READY(value) < 0) return NULL;
        if (PyUnicode_KIND(value) != PyUnicode_1BYTE_KIND) Py_RETURN_NONE;
        const Py_UCS1 *s = PyUnicode_1BYTE_DATA(value);
        Py_ssize_t n = PyUnicode_GET_LENGTH(value);
        all[id]++;
        lines[id] += n > 0;
        backticks[id] += n == 1 && s[0] == '`';
        if (!(skip >> id & 1)) count_tokens(s, n, tok);
        if (id == PER_FRAME || id == PER_PIXEL) assigned |= assigned_names(s, n);
    }
    int names = 0;
    for (int k = 0; k < N_MOTION; k++) names += assigned >> k & 1;
    PyObject *line_tuple = PyTuple_New(N_CATEGORIES), *tok_tuple = PyTuple_New(N_TOKENS);
    if (line_tuple == NULL || tok_tuple == NULL) goto fail;
    for (int k = 0; k < N_CATEGORIES; k++) {
        PyObject *number = PyLong_FromLong(lines[k]);
        if (number == NULL) goto fail;
        PyTuple_SET_ITEM(line_tuple, k, number);
    }
    for (int k = 0; k < N_TOKENS; k++) {
        PyObject *number = PyLong_FromLong(tok[k]);
        if (number == NULL) goto fail;
        PyTuple_SET_ITEM(tok_tuple, k, number);
    }
    long warp_lines = lines[WARP] ? all[WARP] - backticks[WARP] : 0;
    long comp_lines = lines[COMP] ? all[COMP] - backticks[COMP] : 0;
    PyObject *result = Py_BuildValue("(OllOi)", line_tuple, warp_lines, comp_lines, tok_tuple, names);
    Py_DECREF(line_tuple);
    Py_DECREF(tok_tuple);
    return result;
fail:
    Py_XDECREF(line_tuple);
    Py_XDECREF(tok_tuple);
    return NULL;
}

static PyMethodDef methods[] = {
    {"counts", counts, METH_VARARGS,
     "counts(entries, category_ids, skip) -> (lines, warp_lines, comp_lines, tokens, assigned), or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_milkcount",
                                    "The compiled feature counts (see aivj/milk/features.py).", -1, methods};

PyMODINIT_FUNC PyInit__milkcount(void) { return PyModule_Create(&module); }
