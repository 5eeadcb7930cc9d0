/* cache.c: SESSIONCACHE, the session cache every engine process shares (BearSSL's session cache interface over a locked file). */
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/file.h>
#include <skalibs/uint64.h>
#include "exitcodes.h"
#include "ust.h"
#include "bearssl-internal.h"

/* A slot, BSB_CACHE_SLOT bytes at offset (first 4 bytes of the session id,
   which the server drew at random) % BSB_CACHE_SLOTS:
     0   "ustsc1\n\0"
     8   creation time, seconds, big-endian
     16  session id (32)
     48  version (2), cipher suite (2)
     52  master secret (48)
     100 binding (28): SHA-256 of the certificate chosen for the session and
         of the policy it ran under, truncated
   An empty slot (a hole of the sparse file, or past its end) reads as zeros. */
#define OFF_TIME 8
#define OFF_ID 16
#define OFF_VERSION 48
#define OFF_SUITE 50
#define OFF_MASTER 52
#define OFF_BIND 100
#define BIND_LEN 28

static char const magic[8] = "ustsc1\n" ;

static bsb_cache *self (br_ssl_session_cache_class const **ctx)
{
  return (bsb_cache *)((char *)ctx - offsetof(bsb_cache, vtable)) ;
}

static off_t slot_offset (unsigned char const *id)
{
  uint32_t h = (uint32_t)id[0] << 24 | (uint32_t)id[1] << 16 | (uint32_t)id[2] << 8 | id[3] ;
  return (off_t)(h % BSB_CACHE_SLOTS) * BSB_CACHE_SLOT ;
}

static int slot_io (int fd, unsigned char *slot, off_t off, int writing)
{
  ssize_t r ;
  /* one pread or pwrite of a slot under the lock */
  if (ust_secret_lock(fd, writing ? LOCK_EX : LOCK_SH) < 0) return -1 ;
  do r = writing ? pwrite(fd, slot, BSB_CACHE_SLOT, off) : pread(fd, slot, BSB_CACHE_SLOT, off) ;
  while (r < 0 && errno == EINTR) ;
  flock(fd, LOCK_UN) ;
  return r == BSB_CACHE_SLOT ? 0 : -1 ;
}

static uint64_t get64 (unsigned char const *p) { uint64_t v ; uint64_unpack_big((char const *)p, &v) ; return v ; }

/* Erases the slot at off: its secret is gone. */
static unsigned char zero_slot[BSB_CACHE_SLOT] ;

static void erase (int fd, off_t off)
{
  slot_io(fd, zero_slot, off, 1) ;
}

/* Erases the expired entries among SWEEP slots: the window the current
   second selects, so that handshakes in 4096/SWEEP different seconds sweep
   the whole file. A master secret past the lifetime is not kept longer
   than the traffic takes to reach its slot. */
#define SWEEP 64

static void sweep (bsb_cache const *c)
{
  unsigned char win[SWEEP * BSB_CACHE_SLOT] ;
  uint64_t now = (uint64_t)time(0) ;
  off_t base = (off_t)(now % (BSB_CACHE_SLOTS / SWEEP)) * SWEEP * BSB_CACHE_SLOT ;
  ssize_t r ;
  if (ust_secret_lock(c->fd, LOCK_EX) < 0) return ;
  do r = pread(c->fd, win, sizeof(win), base) ;
  while (r < 0 && errno == EINTR) ;
  for (ssize_t i = 0 ; i + BSB_CACHE_SLOT <= r ; i += BSB_CACHE_SLOT)
  {
    uint64_t made = get64(win + i + OFF_TIME) ;
    if (memcmp(win + i, magic, 8) || (made <= now && now - made < c->lifetime)) continue ;
    if (pwrite(c->fd, zero_slot, BSB_CACHE_SLOT, base + i) < 0) break ;  /* under the sweep's lock */
  }
  flock(c->fd, LOCK_UN) ;
  explicit_bzero(win, sizeof(win)) ;
}

static void save (br_ssl_session_cache_class const **ctx, br_ssl_server_context *sc, br_ssl_session_parameters const *params)
{
  bsb_cache *c = self(ctx) ;
  unsigned char slot[BSB_CACHE_SLOT] ;
  off_t off = slot_offset(params->session_id) ;
  int k = c->policy->chosen ;
  (void)sc ;
  if (k < 0 || params->session_id_len != 32) return ;
  /* A session is saved once, at its full handshake: its lifetime counts from there. */
  if (!slot_io(c->fd, slot, off, 0) && !memcmp(slot, magic, 8) && !memcmp(slot + OFF_ID, params->session_id, 32))
  {
    explicit_bzero(slot, sizeof(slot)) ;
    return ;
  }
  memcpy(slot, magic, 8) ;
  uint64_pack_big((char *)slot + OFF_TIME, (uint64_t)time(0)) ;
  memcpy(slot + OFF_ID, params->session_id, 32) ;
  slot[OFF_VERSION] = (unsigned char)(params->version >> 8) ; slot[OFF_VERSION + 1] = (unsigned char)params->version ;
  slot[OFF_SUITE] = (unsigned char)(params->cipher_suite >> 8) ; slot[OFF_SUITE + 1] = (unsigned char)params->cipher_suite ;
  memcpy(slot + OFF_MASTER, params->master_secret, 48) ;
  memcpy(slot + OFF_BIND, c->bind[k], BIND_LEN) ;
  slot_io(c->fd, slot, off, 1) ;  /* a failure is a session that will not resume */
  explicit_bzero(slot, sizeof(slot)) ;
  sweep(c) ;
}

/* BearSSL asks before it has read the ClientHello's extensions: the server
   name is not known yet. The session is bound here to the certificate and
   policy it was made under (any certificate change, or TLS_PROTOCOLS or
   TLS_CIPHERS change, and it is gone); bsb_cache_check, after the
   handshake (io.c, resumed_ok), refuses it if the name the client sent now
   selects another certificate. */
static int load (br_ssl_session_cache_class const **ctx, br_ssl_server_context *sc, br_ssl_session_parameters *params)
{
  bsb_cache *c = self(ctx) ;
  unsigned char slot[BSB_CACHE_SLOT] ;
  uint64_t made, now = (uint64_t)time(0) ;
  unsigned int version, suite ;
  int k = -1 ;
  (void)sc ;
  c->loaded = 0 ;
  if (params->session_id_len != 32 || slot_io(c->fd, slot, slot_offset(params->session_id), 0) < 0) return 0 ;
  made = get64(slot + OFF_TIME) ;
  if (!memcmp(slot, magic, 8) && !memcmp(slot + OFF_ID, params->session_id, 32) && (made > now || now - made >= c->lifetime))
    erase(c->fd, slot_offset(params->session_id)) ;  /* expired: its secret goes now */
  else if (!memcmp(slot, magic, 8) && !memcmp(slot + OFF_ID, params->session_id, 32))
    for (unsigned int i = 0 ; i < c->n ; i++)
      if (!memcmp(slot + OFF_BIND, c->bind[i], BIND_LEN)) { k = (int)i ; break ; }
  version = (unsigned int)(slot[OFF_VERSION] << 8 | slot[OFF_VERSION + 1]) ;
  suite = (unsigned int)(slot[OFF_SUITE] << 8 | slot[OFF_SUITE + 1]) ;
  /* BearSSL resumes with the stored suite and version as they are: only
     what a full handshake here could have chosen is resumed (a slot written
     by another build, or by hand, is a miss, not a suite without code) */
  if (k >= 0 && (version != BR_TLS12 || !bsb_suite_allowed(c->conf, suite, c->keypairs[k].key_type))) k = -1 ;
  if (k >= 0)
  {
    params->version = (uint16_t)version ;
    params->cipher_suite = (uint16_t)suite ;
    memcpy(params->master_secret, slot + OFF_MASTER, 48) ;
    memcpy(c->id, params->session_id, 32) ;
    c->keypair = k ;
    c->loaded = 1 ;
  }
  explicit_bzero(slot, sizeof(slot)) ;
  return k >= 0 ;
}

static br_ssl_session_cache_class const vtable = {
  .context_size = sizeof(bsb_cache),
  .save = &save,
  .load = &load
} ;

int bsb_cache_open (bsb_cache *c, tlsconf const *conf, bsb_keypair const *keypairs, unsigned int n, bsb_policy const *policy, char const **why)
{
  char const *w ;
  c->fd = ust_secret_file_open(conf->sessioncache, &w) ;
  if (c->fd < 0) { *why = bsb_why("SESSIONCACHE ", conf->sessioncache, ": ", w, (char const *)0) ; return UST_EXIT_TLSCONF ; }
  c->vtable = &vtable ;
  c->policy = policy ;
  c->conf = conf ;
  c->keypairs = keypairs ;
  c->lifetime = conf->session_lifetime ;
  c->n = n ;
  c->loaded = 0 ;
  c->keypair = -1 ;
  for (unsigned int i = 0 ; i < n ; i++)
  {
    br_sha256_context h ;
    unsigned char out[32], pol[3] = { 1, (unsigned char)conf->protocols, (unsigned char)conf->ciphers } ;
    br_sha256_init(&h) ;
    br_sha256_update(&h, "ust session cache binding", 25) ;
    br_sha256_update(&h, pol, sizeof(pol)) ;
    br_sha256_update(&h, keypairs[i].chain[0].data, keypairs[i].chain[0].data_len) ;
    br_sha256_out(&h, out) ;
    memcpy(c->bind[i], out, BIND_LEN) ;
  }
  return 0 ;
}

int bsb_cache_resumed (bsb_cache const *c, br_ssl_engine_context const *eng)
{
  br_ssl_session_parameters p ;
  int r ;
  if (c->fd < 0 || !c->loaded) return 0 ;
  br_ssl_engine_get_session_parameters(eng, &p) ;
  /* BearSSL may still have declined the session (its suite or version not
     offered again): a full handshake then drew a new id */
  r = p.session_id_len == 32 && !memcmp(p.session_id, c->id, 32) ;
  explicit_bzero(&p, sizeof(p)) ;
  return r ;
}

int bsb_cache_same_certificate (bsb_cache const *c, int i, int j)
{
  return i >= 0 && j >= 0 && !memcmp(c->bind[i], c->bind[j], BIND_LEN) ;
}

void bsb_cache_forget (bsb_cache *c)
{
  unsigned char slot[BSB_CACHE_SLOT] ;
  off_t off = slot_offset(c->id) ;
  if (c->fd < 0 || !c->loaded) return ;
  if (!slot_io(c->fd, slot, off, 0) && !memcmp(slot, magic, 8) && !memcmp(slot + OFF_ID, c->id, 32))
    erase(c->fd, off) ;
  explicit_bzero(slot, sizeof(slot)) ;
}

void bsb_cache_close (bsb_cache *c)
{
  if (c->fd >= 0) close(c->fd) ;
  c->fd = -1 ;
}
