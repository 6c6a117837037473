// C ABI over libprojectM 3.1.12 + EGL surfaceless (Mesa) for deterministic offline renders.
//
// Why a shim: projectM 3.1 has only a C++ API, and Python drives it through ctypes.
// Why a virtual clock: projectM animates by wall-clock time (gettimeofday) and seeds rand()
// from time(); this library defines both, so when it comes first in symbol lookup
// (LD_PRELOAD in the worker process) every render advances by exactly one frame period.
// One projectM per process, never destroyed: ~projectM() can deadlock (see docs/refinery.md).
#include <EGL/egl.h>
#include <EGL/eglext.h>
#include <GL/gl.h>
// projectM keeps its BeatDetect private; we need the pointer to reset beat statistics between
// presets (its running sums carry float drift from one preset into the next). Access only:
// the class layout does not change.
#define private public
#include <libprojectM/projectM.hpp>
#undef private

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <sys/time.h>
#include <vector>

static double g_clock_s = 1000.0;  // virtual seconds since the epoch, advanced by the renderer

extern "C" int gettimeofday(struct timeval *tv, void * /*tz*/) {
    if (tv) {
        long long us = (long long)(g_clock_s * 1e6 + 0.5);
        tv->tv_sec = (time_t)(us / 1000000);
        tv->tv_usec = (suseconds_t)(us % 1000000);
    }
    return 0;
}

extern "C" time_t time(time_t *out) {
    time_t t = (time_t)g_clock_s;
    if (out) *out = t;
    return t;
}

// BeatDetect::BeatDetect(PCM*) (exported by libprojectM.so.3). Re-running the constructor on the
// live object zeroes every history buffer and running sum, exactly as in a fresh process.
extern "C" void _ZN10BeatDetectC1EP3PCM(void *self, PCM *pcm);

namespace {
projectM *g_pm = nullptr;
int g_w = 0, g_h = 0;
std::vector<uint8_t> g_rgba;

void set_err(char *err, int errlen, const std::string &msg) {
    if (err && errlen > 0) {
        std::snprintf(err, (size_t)errlen, "%s", msg.c_str());
    }
}

bool make_context(int w, int h, char *err, int errlen) {
    auto get_display = (PFNEGLGETPLATFORMDISPLAYEXTPROC)eglGetProcAddress("eglGetPlatformDisplayEXT");
    if (!get_display) { set_err(err, errlen, "EGL has no eglGetPlatformDisplayEXT"); return false; }
    EGLDisplay dpy = get_display(EGL_PLATFORM_SURFACELESS_MESA, EGL_DEFAULT_DISPLAY, nullptr);
    if (dpy == EGL_NO_DISPLAY) { set_err(err, errlen, "no EGL surfaceless display (install libegl-mesa0)"); return false; }
    EGLint major = 0, minor = 0;
    if (!eglInitialize(dpy, &major, &minor)) { set_err(err, errlen, "eglInitialize failed"); return false; }
    if (!eglBindAPI(EGL_OPENGL_API)) { set_err(err, errlen, "eglBindAPI(EGL_OPENGL_API) failed"); return false; }
    const EGLint cfg_attr[] = {EGL_SURFACE_TYPE, EGL_PBUFFER_BIT, EGL_RENDERABLE_TYPE, EGL_OPENGL_BIT,
                               EGL_RED_SIZE, 8, EGL_GREEN_SIZE, 8, EGL_BLUE_SIZE, 8, EGL_ALPHA_SIZE, 8,
                               EGL_DEPTH_SIZE, 24, EGL_NONE};
    EGLConfig cfg;
    EGLint n = 0;
    if (!eglChooseConfig(dpy, cfg_attr, &cfg, 1, &n) || n < 1) { set_err(err, errlen, "no EGL RGBA8 pbuffer config"); return false; }
    const EGLint pb_attr[] = {EGL_WIDTH, w, EGL_HEIGHT, h, EGL_NONE};
    EGLSurface surf = eglCreatePbufferSurface(dpy, cfg, pb_attr);
    if (surf == EGL_NO_SURFACE) { set_err(err, errlen, "eglCreatePbufferSurface failed"); return false; }
    const EGLint ctx_attr[] = {EGL_CONTEXT_MAJOR_VERSION, 3, EGL_CONTEXT_MINOR_VERSION, 3,
                               EGL_CONTEXT_OPENGL_PROFILE_MASK, EGL_CONTEXT_OPENGL_CORE_PROFILE_BIT, EGL_NONE};
    EGLContext ctx = eglCreateContext(dpy, cfg, EGL_NO_CONTEXT, ctx_attr);
    if (ctx == EGL_NO_CONTEXT) { set_err(err, errlen, "no OpenGL 3.3 core context (Mesa too old?)"); return false; }
    if (!eglMakeCurrent(dpy, surf, surf, ctx)) { set_err(err, errlen, "eglMakeCurrent failed"); return false; }
    return true;
}

void read_frame(uint8_t *out_rgb) {
    // glReadPixels is bottom-up; write rows top-down as RGB.
    glReadPixels(0, 0, g_w, g_h, GL_RGBA, GL_UNSIGNED_BYTE, g_rgba.data());
    for (int y = 0; y < g_h; ++y) {
        const uint8_t *src = g_rgba.data() + (size_t)(g_h - 1 - y) * g_w * 4;
        uint8_t *dst = out_rgb + (size_t)y * g_w * 3;
        for (int x = 0; x < g_w; ++x) {
            dst[3 * x] = src[4 * x];
            dst[3 * x + 1] = src[4 * x + 1];
            dst[3 * x + 2] = src[4 * x + 2];
        }
    }
}

void reset_audio_state() {
    PCM *pcm = g_pm->pcm();
    for (int ch = 0; ch < 2; ++ch)
        if (pcm->PCMd && pcm->PCMd[ch]) std::memset(pcm->PCMd[ch], 0, sizeof(float) * (size_t)PCM::maxsamples);
    pcm->start = 0;
    pcm->newsamples = 0;
    if (g_pm->beatDetect) _ZN10BeatDetectC1EP3PCM((void *)g_pm->beatDetect, pcm);
}

void feed_and_render(const float *pcm, int n, double dt) {
    if (pcm && n > 0) g_pm->pcm()->addPCMfloat(pcm, n);
    g_pm->renderFrame();
    g_clock_s += dt;
}
}  // namespace

extern "C" {

int aivj_pm_abi_version(void) { return 1; }

void aivj_clock_set(double seconds) { g_clock_s = seconds; }
double aivj_clock_get(void) { return g_clock_s; }

// Create the one EGL context + projectM of this process. Returns 0 on success.
int aivj_pm_open(int width, int height, int mesh_x, int mesh_y, int fps, const char *datadir, char *err, int errlen) {
    if (g_pm) { set_err(err, errlen, "projectM already open in this process"); return 1; }
    if (!make_context(width, height, err, errlen)) return 2;
    g_w = width;
    g_h = height;
    g_rgba.assign((size_t)width * height * 4, 0);
    projectM::Settings s;
    s.meshX = mesh_x;
    s.meshY = mesh_y;
    s.fps = fps;
    int tex = 128;  // a 64 px feedback texture renders some presets black (measured); 128 is the floor
    while (tex < width || tex < height) tex *= 2;
    s.textureSize = tex;
    s.windowWidth = width;
    s.windowHeight = height;
    s.presetURL = "";
    s.datadir = datadir ? datadir : "/usr/share/projectM";
    s.smoothPresetDuration = 0;
    s.presetDuration = 100000;
    s.hardcutEnabled = false;
    s.hardcutDuration = 100000;
    s.hardcutSensitivity = 1e9f;
    s.beatSensitivity = 1.0f;
    s.aspectCorrection = true;
    s.easterEgg = 0.0f;
    s.shuffleEnabled = false;
    s.softCutRatingsEnabled = false;
    g_clock_s = 1000.0;
    try {
        g_pm = new projectM(s, projectM::FLAG_DISABLE_PLAYLIST_LOAD);
    } catch (...) {
        set_err(err, errlen, "projectM constructor threw");
        return 3;
    }
    g_pm->setPresetLock(true);
    g_pm->projectM_resetGL(width, height);
    return 0;
}

// Render one preset deterministically:
//   black preset for `black_frames` frames (flushes the feedback buffer, audio primed with `prime`),
//   then clock := 1000 s, srand(seed), load `preset_path`, `warmup` frames skipped, `frames` frames
//   read back into out_rgb (frames * h * w * 3, top-down RGB).
// `audio` holds (warmup + frames) * spf mono floats; `prime` holds black_frames * spf.
// Returns 0 ok, 1 not open, 2 preset failed to load.
int aivj_pm_render(const char *preset_path, const char *black_path, int black_frames, const float *prime,
                   int warmup, int frames, const float *audio, int spf, double frame_seconds,
                   unsigned int seed, uint8_t *out_rgb, char *err, int errlen) {
    if (!g_pm) { set_err(err, errlen, "projectM not open"); return 1; }
    RatingList ratings;
    ratings.push_back(3);
    ratings.push_back(3);
    g_pm->clearPlaylist();
    unsigned black_idx = g_pm->addPresetURL(black_path, "aivj_black", ratings);
    unsigned idx = g_pm->addPresetURL(preset_path, "aivj_target", ratings);
    g_clock_s = 900.0;
    std::srand(seed);
    reset_audio_state();
    g_pm->selectPreset(black_idx, true);
    for (int i = 0; i < black_frames; ++i) feed_and_render(prime ? prime + (size_t)i * spf : nullptr, spf, frame_seconds);
    g_clock_s = 1000.0;
    std::srand(seed);
    g_pm->selectPreset(idx, true);
    if (g_pm->getErrorLoadingCurrentPreset()) {
        set_err(err, errlen, std::string("projectM could not load ") + preset_path);
        return 2;
    }
    for (int i = 0; i < warmup; ++i) feed_and_render(audio + (size_t)i * spf, spf, frame_seconds);
    const size_t fsz = (size_t)g_w * g_h * 3;
    for (int i = 0; i < frames; ++i) {
        feed_and_render(audio + (size_t)(warmup + i) * spf, spf, frame_seconds);
        read_frame(out_rgb + (size_t)i * fsz);
    }
    return 0;
}

}  // extern "C"
