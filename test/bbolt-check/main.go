// bbolt-check opens a bbolt file with go.etcd.io/bbolt (Debian's golang-github-coreos-bbolt-dev),
// runs its consistency check and prints one JSON document: the check's errors, the meta fields
// bbolt reports, and every top-level bucket with its key/value pairs (hex) in bbolt's order, so
// tests can compare what real bbolt reads with what was written. Beyond bbolt's own check it
// verifies key order and that Get (a descent through the branch pages) finds every value. Each
// bucket's digest is SHA-256 over its pairs, each as 4-byte big-endian key and value lengths, the
// key and the value, so large files can be compared without printing them.
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"

	bolt "go.etcd.io/bbolt"
)

type bucketDump struct {
	Name   string      `json:"name"`
	Inline bool        `json:"inline"`
	Depth  int         `json:"depth"`
	Count  int         `json:"count"`
	Digest string      `json:"digest"`
	Pairs  [][2]string `json:"pairs,omitempty"`
}

type report struct {
	Errors    []string     `json:"errors"`
	PageSize  int          `json:"pageSize"`
	TxID      int          `json:"txid"`
	Size      int64        `json:"size"`
	FreePages int          `json:"freePages"`
	Buckets   []bucketDump `json:"buckets"`
}

func main() {
	pairs := flag.Bool("pairs", true, "print every key/value pair, not only their count and digest")
	mutate := flag.Bool("mutate", false, "first change the file in one read-write transaction (delete every bucket's first key, add a key \"~bbolt-check\" to each), as etcd does to a restored snapshot")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: bbolt-check [-pairs=false] FILE")
		os.Exit(2)
	}
	if *mutate {
		if err := mutateFile(flag.Arg(0)); err != nil {
			fmt.Fprintln(os.Stderr, "mutate:", err)
			os.Exit(1)
		}
	}
	db, err := bolt.Open(flag.Arg(0), 0400, &bolt.Options{ReadOnly: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, "open:", err)
		os.Exit(1)
	}
	defer db.Close()
	r := report{Errors: []string{}, Buckets: []bucketDump{}}
	err = db.View(func(tx *bolt.Tx) error {
		for e := range tx.Check() {
			r.Errors = append(r.Errors, e.Error())
		}
		r.PageSize = db.Info().PageSize
		r.TxID = tx.ID()
		r.Size = tx.Size()
		r.FreePages = db.Stats().FreePageN
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			st := b.Stats()
			d := bucketDump{Name: hex.EncodeToString(name), Inline: st.InlineBucketN > 0, Depth: st.Depth}
			h := sha256.New()
			var prev []byte
			err := b.ForEach(func(k, v []byte) error {
				if prev != nil && bytes.Compare(prev, k) >= 0 {
					r.Errors = append(r.Errors, fmt.Sprintf("bucket %q: key %x after %x", name, k, prev))
				}
				prev = append(prev[:0], k...)
				// Get descends through the branch pages, so it proves their separator keys.
				if got := b.Get(k); !bytes.Equal(got, v) {
					r.Errors = append(r.Errors, fmt.Sprintf("bucket %q: Get(%x) does not find the value ForEach read", name, k))
				}
				var n [8]byte
				binary.BigEndian.PutUint32(n[:4], uint32(len(k)))
				binary.BigEndian.PutUint32(n[4:], uint32(len(v)))
				h.Write(n[:])
				h.Write(k)
				h.Write(v)
				d.Count++
				if *pairs {
					d.Pairs = append(d.Pairs, [2]string{hex.EncodeToString(k), hex.EncodeToString(v)})
				}
				return nil
			})
			d.Digest = hex.EncodeToString(h.Sum(nil))
			r.Buckets = append(r.Buckets, d)
			return err
		})
	})
	if err != nil {
		fmt.Fprintln(os.Stderr, "read:", err)
		os.Exit(1)
	}
	out, _ := json.Marshal(r)
	fmt.Println(string(out))
}

func mutateFile(path string) error {
	db, err := bolt.Open(path, 0600, nil)
	if err != nil {
		return err
	}
	defer db.Close()
	return db.Update(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			if k, _ := b.Cursor().First(); k != nil {
				if err := b.Delete(k); err != nil {
					return err
				}
			}
			return b.Put([]byte("~bbolt-check"), []byte(name))
		})
	})
}
