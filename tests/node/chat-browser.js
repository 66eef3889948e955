// The chat page (examples/chat.rs) in headless Chromium: two pages join one
// room, a message sent from one appears in the other, a page that drops gets the
// messages it missed when it is back, and a screenshot of the receiving page is
// saved.
//
//   node chat-browser.js <base-url> <screenshot.png>
//
// Chromium is Debian's (/usr/bin/chromium, or $CHROMIUM), driven by
// playwright-core. Prints `ok <step> ...` lines; the first failure prints
// `FAIL: <why>` and exits 1. Every wait is bounded, and so is the whole run.

"use strict";

const fs = require("fs");
const path = require("path");
const { chromium } = require("playwright-core");

const [, , baseUrl, screenshot] = process.argv;
const CHROMIUM = process.env.CHROMIUM || "/usr/bin/chromium";
const STEP_MS = 10000;
const RUN_MS = 60000;
// Without these, Chromium's background connections are refused by a closed
// network many at a time. playwright gives each launch a fresh, temporary
// --user-data-dir.
const FLAGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];

let browser;

async function openChat(name, problems) {
  const context = await browser.newContext({ viewport: { width: 820, height: 720 } });
  const page = await context.newPage();
  page.setDefaultTimeout(STEP_MS);
  page.on("pageerror", (e) => problems.push(`${name}: page error: ${e.message}`));
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(`${name}: console error: ${m.text()}`);
  });
  await page.goto(baseUrl, { timeout: STEP_MS });
  await page.locator('#state[data-state="online"]').waitFor();
  return page;
}

async function join(page, room) {
  await page.fill("#room", room);
  await page.click("#join");
  await page.locator("#rooms button", { hasText: `#${room}` }).waitFor();
  await page.locator("#send:not([disabled])").waitFor();
}

async function main() {
  if (!baseUrl || !screenshot) throw new Error("usage: node chat-browser.js <base-url> <screenshot.png>");
  if (!fs.existsSync(CHROMIUM)) {
    throw new Error(`Chromium is not installed at ${CHROMIUM}: apt-get install -y chromium`);
  }
  browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: FLAGS, timeout: STEP_MS });
  console.log(`ok launch Chromium ${browser.version()}`);

  const problems = [];
  const alice = await openChat("alice", problems);
  const bob = await openChat("bob", problems);
  console.log("ok online both pages show the state online");

  const room = `room-${process.pid}`;
  await join(alice, room);
  await join(bob, room);
  console.log(`ok join both pages joined #${room}`);

  // Markup in the text must arrive as text, not as elements.
  const text = `hello from alice <b>not bold</b> <img src=x onerror="window.injected=1"> ${Date.now()}`;
  await alice.fill("#text", text);
  await alice.click("#send");

  const received = bob.locator("#messages li.theirs", { hasText: text });
  await received.waitFor();
  const aliceId = await alice.evaluate(() => document.querySelector("#messages li.mine")?.dataset.from);
  const from = await received.getAttribute("data-from");
  if (!aliceId || from !== aliceId) throw new Error(`bob's message is from ${from}, alice is ${aliceId}`);
  const shown = await received.locator(".from").textContent();
  if (shown !== aliceId.slice(0, 6)) throw new Error(`bob's page names the sender ${shown}`);
  console.log(`ok deliver bob got alice's message (from ${from})`);

  // And back: bob answers, alice sees it, and each page marks its own words.
  const reply = `hi alice, bob here ${Date.now()}`;
  await bob.fill("#text", reply);
  await bob.press("#text", "Enter");
  await alice.locator("#messages li.theirs", { hasText: reply }).waitFor();
  await bob.locator("#messages li.mine", { hasText: reply }).waitFor();
  console.log("ok reply alice got bob's answer");

  // A dropped connection: the page says it is retrying; messages sent to its room
  // meanwhile appear, once and in order, when it is back, and it says it reconnected
  // (connection state recovery: same id, same rooms, nothing lost).
  const bobId = await bob.evaluate(() => window.chatSocket.id);
  await bob.evaluate(() => {
    // Held away until told: the messages below are sent while it is gone.
    window.chatSocket.io.reconnection(false);
    window.chatSocket.io.engine.close();
  });
  await bob.locator('#state[data-state="retrying"], #state[data-state="offline"]').waitFor();
  const missed = [`while you were away ${Date.now()}`, `and this too ${Date.now()}`];
  for (const m of missed) {
    await alice.fill("#text", m);
    await alice.click("#send");
    // Alice sees her own message once the server has broadcast (and kept) it.
    await alice.locator("#messages li.mine", { hasText: m }).waitFor();
  }
  await bob.evaluate(() => {
    window.chatSocket.io.reconnection(true);
    window.chatSocket.connect();
  });
  await bob.locator('#state[data-state="online"]', { hasText: "reconnected" }).waitFor();
  await bob.locator("#messages li.note", { hasText: "Reconnected: 2 missed messages delivered above." }).waitFor();
  const back = await bob.evaluate(() => ({ id: window.chatSocket.id, recovered: window.chatSocket.recovered }));
  if (!back.recovered || back.id !== bobId) {
    throw new Error(`bob came back as ${JSON.stringify(back)}, was ${bobId}`);
  }
  const texts = await bob.locator("#messages li.theirs .text").allTextContents();
  const got = texts.filter((t) => missed.includes(t));
  if (JSON.stringify(got) !== JSON.stringify(missed)) {
    throw new Error(`bob's page shows the missed messages as ${JSON.stringify(got)}`);
  }
  const again = `still here? ${Date.now()}`;
  await alice.fill("#text", again);
  await alice.click("#send");
  await bob.locator("#messages li.theirs", { hasText: again }).waitFor();
  console.log("ok reconnect bob's page went retrying, came back recovered with the 2 messages it missed, in order, and got the next one");

  for (const [name, page] of [["alice", alice], ["bob", bob]]) {
    const markup = await page.evaluate(() => ({
      elements: document.querySelectorAll("#messages b, #messages img").length,
      injected: window.injected === 1,
    }));
    if (markup.elements > 0 || markup.injected) {
      throw new Error(`${name}'s page turned message text into HTML: ${JSON.stringify(markup)}`);
    }
  }
  console.log("ok escape message text is shown as text on both pages");

  fs.mkdirSync(path.dirname(screenshot), { recursive: true });
  await bob.screenshot({ path: screenshot, fullPage: true });
  console.log(`ok screenshot ${screenshot}`);

  if (problems.length > 0) throw new Error(problems.join("\n"));
}

const watchdog = setTimeout(() => {
  console.log(`FAIL: the run took longer than ${RUN_MS} ms`);
  const closing = browser ? browser.close() : Promise.resolve();
  closing.finally(() => process.exit(1));
}, RUN_MS);

main()
  .then(() => {
    process.exitCode = 0;
  })
  .catch((error) => {
    console.log(`FAIL: ${error.message}`);
    process.exitCode = 1;
  })
  .finally(async () => {
    if (browser) await browser.close().catch(() => {});
    clearTimeout(watchdog);
  });
