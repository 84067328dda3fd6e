package main

import (
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestImportIsAuthorizedBeforeTheFileIsRead: the upload's body is a pipe
// nothing is ever written to, so a server that read it would wait until
// the client gave up. An analyst's and an auditor's imports are answered
// 403 at once.
func TestImportIsAuthorizedBeforeTheFileIsRead(t *testing.T) {
	s := startTestServer(t)
	for _, role := range []string{"analyst", "auditor"} {
		token := s.token("读者-"+role, role)
		for _, kind := range []string{"table", "figures"} {
			pr, pw := io.Pipe()
			req, _ := http.NewRequest("POST", s.base+"/v1/imports?kind="+kind+"&format=csv", pr)
			req.Header.Set("Authorization", "Bearer "+token)
			client := &http.Client{Timeout: 10 * time.Second}
			res, err := client.Do(req)
			pw.Close()
			if err != nil {
				t.Fatalf("%s %s: %v (the server waited for the file)", role, kind, err)
			}
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != 403 || !strings.Contains(string(body), `"rule":"role_may_import"`) {
				t.Fatalf("%s %s: %d %s", role, kind, res.StatusCode, body)
			}
		}
	}
}

// TestOneImportAtATime: while one upload is still arriving, a second
// import waits --import-wait and is refused with 409 and Retry-After; once
// the first is done the second goes through.
func TestOneImportAtATime(t *testing.T) {
	s := startTestServerWith(t, func(c *ServeConfig) { c.Limits.ImportWait = 300 * time.Millisecond })
	office := s.token("考评办", "office")
	s.mustDo(201, "POST", "/v1/tasks", office, map[string]any{"task_id": "air", "year": 2022, "title": "污染防治攻坚战", "lead_department": "区生态环境局"})
	sheet := "indicator_id,task_id,name,unit,direction,window_year,from_month,to_month,value,quality,source_kind\n" +
		"dust,air,降尘量,吨/平方公里·月,higher,2022,1,6,3.6,provisional,self_reported\n"
	pr, pw := io.Pipe()
	first := make(chan int)
	go func() {
		req, _ := http.NewRequest("POST", s.base+"/v1/imports?kind=figures&format=csv", pr)
		req.Header.Set("Authorization", "Bearer "+office)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			first <- 0
			return
		}
		res.Body.Close()
		first <- res.StatusCode
	}()
	io.WriteString(pw, sheet[:40]) // the first upload has begun and holds the turn
	time.Sleep(200 * time.Millisecond)
	r := s.do("POST", "/v1/imports?kind=figures&format=csv&dry_run=true", office, sheet)
	if p := r.json(t); r.Status != 409 || p["code"] != "busy" || r.Header.Get("Retry-After") == "" {
		t.Fatalf("second import: %d %s", r.Status, r.Body)
	}
	io.WriteString(pw, sheet[40:])
	pw.Close()
	if st := <-first; st != 201 {
		t.Fatalf("first import: %d", st)
	}
	s.mustDo(200, "POST", "/v1/imports?kind=figures&format=csv&dry_run=true", office, sheet)
}
