using DeployFunctions.Config;
using DeployFunctions.GitHub;

namespace DeployFunctions.Policy;

/// <summary>
/// Which checks of a commit must pass before a command deploys it (branch-deploy's <c>checks</c> and <c>ignored_checks</c>):
/// <see cref="All"/> of them, the <see cref="Required"/> ones (the base branch's protection or rulesets), or only
/// <see cref="Names"/>. A named check must have reported and passed whatever the mode; an ignored one never blocks unless
/// it is named. Our own <c>deployfunctions/config</c> status never counts.
/// </summary>
public sealed record CheckSelection(string Mode, IReadOnlyList<string> Names, IReadOnlyList<string> Ignored)
{
    public const string All = "all";
    public const string Required = "required";
    public const string Listed = "listed";

    /// <summary>Every check must pass: the default.</summary>
    public static readonly CheckSelection Everything = new(All, [], []);

    /// <summary>Whether <paramref name="check"/> must pass.</summary>
    public bool Counts(CommitCheck check)
    {
        ArgumentNullException.ThrowIfNull(check);
        if (check.Name == ConfigGate.StatusContext)
        {
            return false;
        }

        if (Names.Contains(check.Name, StringComparer.Ordinal))
        {
            return true;
        }

        return !Ignored.Contains(check.Name, StringComparer.Ordinal) && Mode switch
        {
            All => true,
            Required => check.Required,
            _ => false,
        };
    }

    /// <summary>
    /// Why the checks do not let the commit deploy, or null: a counted check failing, pending, or (when named) not reported
    /// yet. Each is named with a link where GitHub gives one.
    /// </summary>
    public string? Blocking(IReadOnlyList<CommitCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(checks);
        var counted = checks.Where(Counts).ToList();
        var failing = counted.Where(c => c.State == CommitCheck.Failure).ToList();
        if (failing.Count > 0)
        {
            return $"{string.Join(", ", failing.Select(Link))} {(failing.Count == 1 ? "is" : "are")} failing on the commit ({Describe()})";
        }

        var waiting = counted.Where(c => c.State == CommitCheck.Pending).Select(Link)
            .Concat(Names.Where(name => !checks.Any(c => c.Name == name)).Select(name => $"`{name}` (not reported yet)"))
            .ToList();
        return waiting.Count > 0
            ? $"{string.Join(", ", waiting)} {(waiting.Count == 1 ? "has" : "have")} not passed yet ({Describe()}); comment again once {(waiting.Count == 1 ? "it passes" : "they pass")}"
            : null;
    }

    /// <summary>How many counted checks passed, for a confirmation: "3 of 3 checks passed (all)".</summary>
    public string Summary(IReadOnlyList<CommitCheck> checks)
    {
        ArgumentNullException.ThrowIfNull(checks);
        var counted = checks.Where(Counts).ToList();
        return $"{counted.Count(c => c.State == CommitCheck.Success)} of {counted.Count} counted checks passed ({Describe()})";
    }

    /// <summary>The rule in words, for replies and <c>.help</c>.</summary>
    public string Describe()
    {
        var what = Mode switch
        {
            All => "every check must pass",
            Required => "the base branch's required checks must pass",
            _ => Names.Count == 0 ? "no check is required" : "only the named checks must pass",
        };
        if (Names.Count > 0 && Mode != Listed)
        {
            what += ", and the named ones";
        }

        if (Names.Count > 0)
        {
            what += $": {string.Join(", ", Names.Select(n => $"`{n}`"))}";
        }

        return Ignored.Count > 0 ? $"{what}; ignored: {string.Join(", ", Ignored.Select(n => $"`{n}`"))}" : what;
    }

    private static string Link(CommitCheck check) => check.Url is { Length: > 0 } url ? $"[`{check.Name}`]({url})" : $"`{check.Name}`";
}
