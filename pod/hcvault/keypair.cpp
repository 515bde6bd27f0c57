#include "pod/hcvault/keypair.hpp"

#include <openssl/bio.h>
#include <openssl/buffer.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>
#include <mutex>

#include "vault/unique_fd.hpp"

namespace ghostpod {
namespace {

// Enough for a few P-256 / Ed25519 keys at once; OpenSSL takes private key numbers from it.
constexpr std::size_t kSecureHeapBytes = 64u << 10;
constexpr int kSecureHeapMinBlock = 32;

using UniqueKey = std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)>;
using UniqueReq = std::unique_ptr<X509_REQ, decltype(&X509_REQ_free)>;
using UniqueBio = std::unique_ptr<BIO, decltype(&BIO_free)>;

Error openssl_error(const std::string& step) {
    unsigned long code = ERR_get_error();
    char text[256] = "unknown OpenSSL error";
    if (code != 0) ERR_error_string_n(code, text, sizeof text);
    ERR_clear_error();
    return make_error(ErrorCode::runtime, step, text);
}

void secure_heap_once() {
    static std::once_flag once;
    // Fails (returns 0) where mlock is refused; OpenSSL then uses the ordinary heap, which this
    // binary zeroes on free (pod/wipe_on_free.cpp).
    std::call_once(once, [] { (void)CRYPTO_secure_malloc_init(kSecureHeapBytes, kSecureHeapMinBlock); });
}

// A memory BIO's bytes, then the BIO's buffer cleansed before it is freed.
Result<SecretBuffer> drain_secret(BIO* bio) {
    BUF_MEM* mem = nullptr;
    BIO_get_mem_ptr(bio, &mem);
    if (mem == nullptr) return make_error(ErrorCode::runtime, "write the session key", "no buffer");
    auto out = SecretBuffer::copy_of({reinterpret_cast<const std::uint8_t*>(mem->data), mem->length});
    OPENSSL_cleanse(mem->data, mem->max);
    return out;
}

std::string drain_public(BIO* bio) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    return n > 0 ? std::string(data, static_cast<std::size_t>(n)) : std::string();
}

// A PEM block with a Proc-Type header would otherwise make OpenSSL ask on the terminal.
int no_password(char*, int, int, void*) { return -1; }

std::vector<std::uint8_t> public_der(EVP_PKEY* key) {
    int n = i2d_PUBKEY(key, nullptr);
    if (n <= 0) return {};
    std::vector<std::uint8_t> out(static_cast<std::size_t>(n));
    unsigned char* p = out.data();
    i2d_PUBKEY(key, &p);
    return out;
}

}  // namespace

Result<ClientKeyPair> make_client_key_pair(const std::string& key_type, const std::string& common_name) {
    secure_heap_once();
    UniqueKey key(key_type == "ed25519" ? EVP_PKEY_Q_keygen(nullptr, nullptr, "ED25519")
                                        : EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256"),
                  EVP_PKEY_free);  // frees key material with BN_clear_free / OPENSSL_secure_clear_free
    if (!key) return openssl_error("make the session's " + key_type + " key pair");

    UniqueReq req(X509_REQ_new(), X509_REQ_free);
    if (!req || X509_REQ_set_version(req.get(), 0) != 1) return openssl_error("make the certificate request");
    X509_NAME* subject = X509_REQ_get_subject_name(req.get());
    if (X509_NAME_add_entry_by_txt(subject, "CN", MBSTRING_UTF8, reinterpret_cast<const unsigned char*>(common_name.c_str()),
                                   static_cast<int>(common_name.size()), -1, 0) != 1 ||
        X509_REQ_set_pubkey(req.get(), key.get()) != 1)
        return openssl_error("make the certificate request for CN=" + common_name);
    // Ed25519 signs the message itself: no separate digest.
    if (X509_REQ_sign(req.get(), key.get(), key_type == "ed25519" ? nullptr : EVP_sha256()) <= 0)
        return openssl_error("sign the certificate request");

    ClientKeyPair pair;
    UniqueBio csr(BIO_new(BIO_s_mem()), BIO_free);
    if (!csr || PEM_write_bio_X509_REQ(csr.get(), req.get()) != 1) return openssl_error("write the certificate request");
    pair.csr_pem = drain_public(csr.get());
    pair.public_key_der = public_der(key.get());

    UniqueBio pem(BIO_new(BIO_s_secmem()), BIO_free);
    if (!pem || PEM_write_bio_PrivateKey(pem.get(), key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        if (pem) (void)drain_secret(pem.get());  // cleansed even when half written
        return openssl_error("write the session key");
    }
    auto secret = drain_secret(pem.get());
    if (!secret) return std::move(secret).error();
    pair.private_key_pem = std::move(*secret);
    return pair;
}

bool certificate_has_key(const std::string& certificate_pem, const std::vector<std::uint8_t>& public_key_der) {
    UniqueBio bio(BIO_new_mem_buf(certificate_pem.data(), static_cast<int>(certificate_pem.size())), BIO_free);
    if (!bio) return false;
    std::unique_ptr<X509, decltype(&X509_free)> cert(PEM_read_bio_X509(bio.get(), nullptr, no_password, nullptr), X509_free);
    ERR_clear_error();
    if (!cert) return false;
    EVP_PKEY* key = X509_get0_pubkey(cert.get());
    return key != nullptr && public_der(key) == public_key_der;
}

}  // namespace ghostpod
