package auth

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/golang-jwt/jwt/v5"
)

// verifyKey is a key and the algorithms it may verify.
type verifyKey struct {
	id   string
	key  any // []byte, *rsa.PublicKey, *ecdsa.PublicKey or ed25519.PublicKey
	algs []string
}

var allAlgorithms = []string{"HS256", "HS384", "HS512", "RS256", "RS384", "RS512",
	"PS256", "PS384", "PS512", "ES256", "ES384", "ES512", "EdDSA"}

func staticKey(k JWTKey) (*verifyKey, error) {
	switch {
	case (k.PEM == nil) == (k.Secret == nil):
		return nil, errors.New("give exactly one of a PEM public key and an HMAC secret")
	case k.Secret != nil:
		return newVerifyKey(k.ID, k.Secret, k.Algorithms)
	}
	block, rest := pem.Decode(k.PEM)
	if block == nil {
		return nil, errors.New("no PEM block")
	}
	if next, _ := pem.Decode(rest); next != nil {
		return nil, errors.New("more than one PEM block; give one key per entry")
	}
	var pub any
	var err error
	switch block.Type {
	case "PUBLIC KEY":
		pub, err = x509.ParsePKIXPublicKey(block.Bytes)
	case "RSA PUBLIC KEY":
		pub, err = x509.ParsePKCS1PublicKey(block.Bytes)
	case "CERTIFICATE":
		var c *x509.Certificate
		if c, err = x509.ParseCertificate(block.Bytes); err == nil {
			pub = c.PublicKey
		}
	default:
		return nil, fmt.Errorf("a %s block is not a public key or certificate", block.Type)
	}
	if err != nil {
		return nil, err
	}
	return newVerifyKey(k.ID, pub, k.Algorithms)
}

// newVerifyKey checks that algs suit pub (every suitable one if nil).
func newVerifyKey(id string, pub any, algs []string) (*verifyKey, error) {
	var fit []string
	switch p := pub.(type) {
	case []byte:
		for _, alg := range []string{"HS256", "HS384", "HS512"} {
			if bits, _ := strconv.Atoi(alg[2:]); len(p)*8 >= bits {
				fit = append(fit, alg)
			}
		}
		if fit == nil {
			return nil, fmt.Errorf("an HMAC secret of %d bytes is too short; HS256 needs 32", len(p))
		}
		pub = bytes.Clone(p)
	case *rsa.PublicKey:
		if p.N.BitLen() < 2048 {
			return nil, fmt.Errorf("a %d-bit RSA key is too small; 2048 is the least", p.N.BitLen())
		}
		fit = []string{"RS256", "RS384", "RS512", "PS256", "PS384", "PS512"}
	case *ecdsa.PublicKey:
		fit = map[elliptic.Curve][]string{elliptic.P256(): {"ES256"}, elliptic.P384(): {"ES384"}, elliptic.P521(): {"ES512"}}[p.Curve]
		if fit == nil {
			return nil, fmt.Errorf("EC curve %s is not supported", p.Curve.Params().Name)
		}
	case ed25519.PublicKey:
		fit = []string{"EdDSA"}
	default:
		return nil, fmt.Errorf("a %T key is not supported", pub)
	}
	if algs == nil {
		return &verifyKey{id: id, key: pub, algs: fit}, nil
	}
	for _, alg := range algs {
		if !slices.Contains(fit, alg) {
			return nil, fmt.Errorf("this key cannot verify %s; it can verify %v", alg, fit)
		}
	}
	return &verifyKey{id: id, key: pub, algs: slices.Clone(algs)}, nil
}

// The PSS methods verify with a salt as long as the hash, as RFC 7518
// 3.5 defines PS256, PS384 and PS512 (golang-jwt's own accept any salt
// length, for old signers). Never changed after init.
var (
	strictPS256 = &jwt.SigningMethodRSAPSS{SigningMethodRSA: jwt.SigningMethodPS256.SigningMethodRSA,
		Options: &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}}
	strictPS384 = &jwt.SigningMethodRSAPSS{SigningMethodRSA: jwt.SigningMethodPS384.SigningMethodRSA,
		Options: &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}}
	strictPS512 = &jwt.SigningMethodRSAPSS{SigningMethodRSA: jwt.SigningMethodPS512.SigningMethodRSA,
		Options: &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}}
)

// strictMethod is the method that verifies alg in place of golang-jwt's,
// or nil to keep golang-jwt's.
func strictMethod(alg string) jwt.SigningMethod {
	switch alg {
	case "PS256":
		return strictPS256
	case "PS384":
		return strictPS384
	case "PS512":
		return strictPS512
	}
	return nil
}
