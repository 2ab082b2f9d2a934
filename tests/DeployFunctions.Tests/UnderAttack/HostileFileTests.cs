using System.Text;
using DeployFunctions.Config;
using DeployFunctions.Tests.Support;

namespace DeployFunctions.Tests.UnderAttack;

/// <summary>
/// A <c>.github/deployfunctions.yml</c> anyone with write access can push, built to crash or stall the worker: every one is
/// refused with its reason (a failing <c>deployfunctions/config</c> status and one comment), cheaply, and the worker lives on.
/// </summary>
public sealed class HostileFileTests(Azurite azurite) : IClassFixture<Azurite>
{
    private const string Repository = "Codertocat/Hello-World";
    private const string ConfigPath = ".github/deployfunctions.yml";

    /// <summary>The "billion laughs": nine lines of aliases, each ten of the one before (10^9 strings once expanded).</summary>
    public static string Laughs()
    {
        var yaml = new StringBuilder("a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
        for (var level = 'b'; level <= 'i'; level++)
        {
            var previous = (char)(level - 1);
            yaml.Append(level).Append(": &").Append(level).Append(" [")
                .AppendJoin(',', Enumerable.Repeat("*" + previous, 10)).Append("]\n");
        }

        return yaml.ToString();
    }

    public static TheoryData<string, string> Hostile() => new()
    {
        { Laughs(), "anchors (&a) are not accepted" },
        { System.Text.RegularExpressions.Regex.Replace(Laughs(), " &[a-i]", ""), "aliases (*a) are not accepted" },
        { new string('[', 400_000), "larger than 32 KiB" },
        { new string('[', 20_000), "nests deeper than 12 levels" },
        { "environments:\n  production: " + new string('[', 200) + new string(']', 200) + "\n", "nests deeper than 12 levels" },
        { "environments:\n  production: {}\n  PRODUCTION: {}\n", "'production' and 'PRODUCTION' name the same environment" },
        { "environments:\n  ? [production, staging]\n  : {}\n", "keys must be plain text" },
        { "environments:\n  production: {}\n  production: {}\n", "'production' is written twice" },
        { "environments:\n  production:\n    freezes:\n      - cron: \"* * * * *\"\n        duration: 9999999d\n        reason: forever\n", "at most 366 days" },
        { "environments:\n  production:\n    freezes:\n      - cron: \"* * * * *\"\n        duration: 999999999d\n        reason: overflow\n", "environments.production.freezes.0.duration" },
        { "a: 1\n---\nb: 2\n", "more than one YAML document" },
    };

    [Theory]
    [MemberData(nameof(Hostile))]
    public void A_hostile_file_is_refused_with_its_reason(string yaml, string why)
    {
        var invalid = Assert.IsType<ConfigRead.Invalid>(RepositoryConfigParser.Parse(yaml, "blob"));

        Assert.Contains(invalid.Errors, e => e.Contains(why, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("a: &anchor 1\nb: 2\n")]
    [InlineData("environments:\n  production: &p {}\n  staging: *p\n")]
    public void Anchors_are_refused_even_where_nothing_expands(string yaml) =>
        Assert.Contains("are not accepted", Assert.Single(Assert.IsType<ConfigRead.Invalid>(RepositoryConfigParser.Parse(yaml, "blob")).Errors), StringComparison.Ordinal);

    [Fact]
    public async Task A_billion_laughs_file_is_refused_with_a_failing_status_and_the_worker_goes_on_deploying()
    {
        await using var pipeline = await Support.Pipeline.StartAsync(azurite);
        pipeline.GitHub.State.OpenPullRequest(pipeline.GitHub.State.Repository("Codertocat", "Hello-World", "master"), 2,
            "0d1a26e67d8f5eaf1f6ba5c57fc3c7d91ac0fd1c").State = "closed";
        pipeline.GitHub.State.Files[(Repository, ConfigPath)] = Laughs();

        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest());

        await Eventually.TrueAsync(() => pipeline.GitHub.State.CommitStatuses.Any(s => s.Context == ConfigGate.StatusContext) &&
                                         pipeline.GitHub.State.CommentsOn(Repository, 2).Count == 1, "the refusal, as a status and a comment");
        var status = pipeline.GitHub.State.CommitStatuses.Single(s => s.Context == ConfigGate.StatusContext);
        Assert.Equal("failure", status.State);
        Assert.Contains("anchors", status.Description, StringComparison.Ordinal);
        Assert.Contains("anchors (&a) are not accepted", Assert.Single(pipeline.GitHub.State.CommentsOn(Repository, 2)).Body, StringComparison.Ordinal);
        Assert.Empty(pipeline.Deployments());

        // The worker lives: the file is fixed, the next merge deploys.
        pipeline.GitHub.State.Files[(Repository, ConfigPath)] = "environments:\n  production: {}\n";
        await pipeline.DeliverAsync("pull_request", WebhookExamples.DerivedMergedPullRequest("1111111111111111111111111111111111111111"));
        await Eventually.TrueAsync(() => pipeline.Deployments().Count == 1 && pipeline.StatesOf(pipeline.Deployments()[0]).Contains("success"), "the next merge deployed");
    }

    [Fact]
    public void A_recurring_freeze_is_found_as_a_walk_over_every_start_would_find_it()
    {
        // The search for the last start before a moment must agree with the plain walk over every start, for windows of
        // every shape: per minute, hourly with long durations, weekly across a time zone's clock change.
        var windows = new[]
        {
            new FreezeWindow { Cron = "* * * * *", Duration = "90m", Reason = "r" },
            new FreezeWindow { Cron = "*/7 * * * *", Duration = "3m", Reason = "r" },
            new FreezeWindow { Cron = "0 * * * *", Duration = "30d", Reason = "r" },
            new FreezeWindow { Cron = "0 17 * * FRI", Duration = "64h", TimeZone = "Europe/Berlin", Reason = "r" },
            new FreezeWindow { Cron = "30 2 * * *", Duration = "50m", TimeZone = "America/New_York", Reason = "r" },
        };
        var random = new Random(20261129);
        var start = new DateTimeOffset(2026, 3, 1, 0, 0, 0, TimeSpan.Zero);
        foreach (var window in windows)
        {
            for (var sample = 0; sample < 40; sample++)
            {
                var at = start + TimeSpan.FromMinutes(random.Next(0, 60 * 24 * 60)) + TimeSpan.FromSeconds(random.Next(0, 60));
                Assert.Equal(Walked(window, at), window.EndsAfter(at));
            }
        }
    }

    /// <summary>The freeze's end by walking every start in [at - duration, at] (the old way: right, but a step per start).</summary>
    private static DateTimeOffset? Walked(FreezeWindow window, DateTimeOffset at)
    {
        var length = FreezeWindow.ParseDuration(window.Duration)!.Value;
        var zone = window.TimeZone is null ? TimeZoneInfo.Utc : TimeZoneInfo.FindSystemTimeZoneById(window.TimeZone);
        var last = Cronos.CronExpression.Parse(window.Cron!).GetOccurrences(at - length, at, zone, fromInclusive: true, toInclusive: true).LastOrDefault();
        return last == default || last + length <= at ? null : last + length;
    }
}
