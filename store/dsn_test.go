package store

import "testing"

func TestParseMySQLDSN(t *testing.T) {
	tests := []struct {
		name, in                 string
		user, pass, addr, dbName string
	}{
		{"DriverDSN", "root:pw@tcp(127.0.0.1:3306)/hookline", "root", "pw", "127.0.0.1:3306", "hookline"},
		{"URL", "app:pw@db.internal:3307/hookline", "app", "pw", "db.internal:3307", "hookline"},
		{"URLDefaultPort", "app@db.internal/hookline", "app", "", "db.internal:3306", "hookline"},
		{"URLEscapedPassword", "app:p%40ss%3Aw%2Frd@db:3306/hookline", "app", "p@ss:w/rd", "db:3306", "hookline"},
		{"URLEscapedUser", "a%40b:pw@db/hookline", "a@b", "pw", "db:3306", "hookline"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mc, err := parseMySQLDSN(tt.in)
			if err != nil {
				t.Fatalf("parseMySQLDSN(%q): %v", tt.in, err)
			}
			if mc.User != tt.user || mc.Passwd != tt.pass || mc.Addr != tt.addr || mc.DBName != tt.dbName {
				t.Errorf("parseMySQLDSN(%q) = user %q, password %q, addr %q, db %q; want %q, %q, %q, %q",
					tt.in, mc.User, mc.Passwd, mc.Addr, mc.DBName, tt.user, tt.pass, tt.addr, tt.dbName)
			}
			if !mc.ParseTime {
				t.Errorf("parseMySQLDSN(%q): parseTime is off", tt.in)
			}
		})
	}
}
