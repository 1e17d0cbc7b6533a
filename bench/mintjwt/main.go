// Command mintjwt signs one JSON Web Token for bench/run.sh's edge
// scenario and prints it: the header names the key (kid), the claims
// are sub and an exp far in the future (and iat), so the token stays
// valid for every round. The algorithm follows the key: RS256 for an RSA
// key, ES256 for an EC P-256 key, EdDSA for Ed25519.
//
//	mintjwt -key rs256.pem -kid rs [-sub bench] [-alg RS256]
package main

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func main() {
	keyFile := flag.String("key", "", "PEM private key (PKCS#8, or PKCS#1 RSA, or SEC 1 EC)")
	kid := flag.String("kid", "", "the token's kid header; empty for none")
	sub := flag.String("sub", "bench", "the sub claim")
	alg := flag.String("alg", "", "the algorithm; default the key's (RS256, ES256, EdDSA)")
	flag.Parse()
	tok, err := mint(*keyFile, *alg, *kid, *sub)
	if err != nil {
		fmt.Fprintln(os.Stderr, "mintjwt:", err)
		os.Exit(1)
	}
	fmt.Println(tok)
}

func mint(keyFile, alg, kid, sub string) (string, error) {
	b, err := os.ReadFile(keyFile)
	if err != nil {
		return "", err
	}
	priv, err := parseKey(b)
	if err != nil {
		return "", fmt.Errorf("%s: %w", keyFile, err)
	}
	if alg == "" {
		if alg, err = algOf(priv); err != nil {
			return "", err
		}
	}
	now := time.Now()
	t := jwt.NewWithClaims(jwt.GetSigningMethod(alg), jwt.MapClaims{
		"sub": sub,
		"iat": now.Unix(),
		"exp": now.AddDate(10, 0, 0).Unix(),
	})
	if kid != "" {
		t.Header["kid"] = kid
	}
	return t.SignedString(priv)
}

func parseKey(b []byte) (any, error) {
	blk, _ := pem.Decode(b)
	if blk == nil {
		return nil, errors.New("no PEM block")
	}
	if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	if k, err := x509.ParseECPrivateKey(blk.Bytes); err == nil {
		return k, nil
	}
	return nil, fmt.Errorf("a %s block that is no private key this program reads", blk.Type)
}

func algOf(priv any) (string, error) {
	switch k := priv.(type) {
	case *rsa.PrivateKey:
		return "RS256", nil
	case *ecdsa.PrivateKey:
		if k.Curve == elliptic.P256() {
			return "ES256", nil
		}
		return "", fmt.Errorf("EC curve %s: give -alg", k.Curve.Params().Name)
	case ed25519.PrivateKey:
		return "EdDSA", nil
	}
	return "", fmt.Errorf("key type %T: give -alg", priv)
}
