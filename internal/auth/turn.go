package auth

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what coturn's use-auth-secret specifies.
	"encoding/base64"
	"strconv"
	"time"
)

// TURNCredentials mints time-limited TURN credentials the way coturn's
// use-auth-secret (static-auth-secret) expects, after the "TURN REST API"
// draft (draft-uberti-behave-turn-rest-00):
//
//	username   = "<expiry unix time>:<user>"   (just "<expiry>" when user is empty)
//	credential = base64(HMAC-SHA1(secret, username))
//
// The expiry is now+ttl. The TURN server accepts the pair until then without
// knowing the user.
func TURNCredentials(secret, user string, ttl time.Duration, now time.Time) (username, credential string) {
	username = strconv.FormatInt(now.Add(ttl).Unix(), 10)
	if user != "" {
		username += ":" + user
	}
	mac := hmac.New(sha1.New, []byte(secret))
	mac.Write([]byte(username))
	return username, base64.StdEncoding.EncodeToString(mac.Sum(nil))
}
