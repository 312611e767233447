#!/usr/bin/perl
# mtrk-submit.pl -- submit one test message over SMTP, with MAIL FROM ... ENVID=
# and an X-MTRK tracking header, the way an mtrk-aware submitting client would.
#
# swaks (20201014, Debian 12) cannot send DSN parameters, so the lab uses this
# small Net::SMTP client (Perl core) for tracked mail. It prints the SMTP dialogue
# on stderr and, on stdout, one line "queued-as <QUEUEID>" when the server
# accepted the message.
#
#   mtrk-submit.pl --server HOST:PORT --helo NAME --from ADDR --to ADDR [--to ADDR ...]
#                  [--envid ENVID] [--mtrk "envid=...; certifier=..."] [--subject TEXT]
#
# Exit status: 0 accepted (possibly with some recipients refused), 1 not accepted,
# 2 usage error.
use strict;
use warnings;
use Getopt::Long qw(GetOptions);
use Net::SMTP;
use POSIX qw(strftime);

my ($server, $helo, $from, $envid, $mtrk, $subject) =
    ('127.0.0.1:2525', 'client.a.example', '', undef, undef, 'mtrk lab message');
my @to;
GetOptions(
    'server=s'  => \$server,
    'helo=s'    => \$helo,
    'from=s'    => \$from,
    'to=s'      => \@to,
    'envid=s'   => \$envid,
    'mtrk=s'    => \$mtrk,
    'subject=s' => \$subject,
) or exit 2;
@to = map { split /,/ } @to;
if (!$from || !@to) {
    print STDERR "usage: $0 --from ADDR --to ADDR [--envid ID] [--mtrk VALUE]\n";
    exit 2;
}
my ($host, $port) = split /:/, $server, 2;

my $smtp = Net::SMTP->new($host, Port => $port || 25, Hello => $helo, Timeout => 30, Debug => 1)
    or die "cannot connect to $server: $@\n";

# Only an ESMTP server announcing DSN gets ENVID=; Net::SMTP passes it verbatim,
# so the ENVID must already be xtext (the lab's ENVIDs are plain printable ASCII).
my %mail_opts = defined $envid ? (Envelope => $envid) : ();
if (!$smtp->mail($from, %mail_opts)) {
    print STDERR "MAIL FROM refused: ", $smtp->code, " ", $smtp->message;
    $smtp->quit;
    exit 1;
}
my @accepted;
for my $rcpt (@to) {
    if ($smtp->to($rcpt)) {
        push @accepted, $rcpt;
    } else {
        print STDERR "RCPT TO:<$rcpt> refused: ", $smtp->code, " ", $smtp->message;
    }
}
if (!@accepted) {
    $smtp->quit;
    exit 1;
}

my $stamp = sprintf('%s.%d.%04x', strftime('%Y%m%d%H%M%S', gmtime), $$, int(rand(65536)));
my @headers = (
    "From: <$from>",
    'To: ' . join(', ', map {"<$_>"} @to),
    "Subject: $subject",
    'Date: ' . strftime('%a, %d %b %Y %H:%M:%S +0000', gmtime),
    "Message-ID: <$stamp\@$helo>",
);
push @headers, "X-MTRK: $mtrk" if defined $mtrk;
my $body = "This is an mtrk lab test message.\n" .
    (defined $envid ? "ENVID: $envid\n" : "It carries no tracking data.\n");

$smtp->data or die "DATA refused: " . $smtp->message;
$smtp->datasend(join("\n", @headers) . "\n\n" . $body);
if (!$smtp->dataend) {
    print STDERR "message refused after DATA: ", $smtp->code, " ", $smtp->message;
    $smtp->quit;
    exit 1;
}
my $reply = $smtp->message;
$smtp->quit;
if ($reply =~ /queued as ([0-9A-Za-z]+)/) {
    print "queued-as $1\n";
} else {
    print "queued-as UNKNOWN\n";
}
exit 0;
