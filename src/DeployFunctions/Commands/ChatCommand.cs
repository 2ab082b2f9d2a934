namespace DeployFunctions.Commands;

/// <summary>The commands a pull request comment can give.</summary>
public enum CommandVerb
{
    Deploy,
    Noop,
    Lock,
    Unlock,
    Wcid,
    Help,

    /// <summary><c>.preview</c>: a writer allows a fork's head to deploy to the pull request's preview.</summary>
    Preview,
}

/// <summary>
/// One parsed command from the first line of a comment: <c>.deploy [&lt;stable_branch&gt;] [to &lt;env&gt;]</c>,
/// <c>.noop [to &lt;env&gt;]</c>, <c>.lock [&lt;env&gt;|--global] [--details] [--reason &lt;text&gt;]</c>,
/// <c>.unlock [&lt;env&gt;|--global]</c>, <c>.wcid</c>, <c>.preview</c>, <c>.help</c>.
/// </summary>
public sealed record ChatCommand
{
    public required CommandVerb Verb { get; init; }

    /// <summary>The environment named with <c>to &lt;env&gt;</c> (deploy, noop) or as the argument (lock, unlock); null: the default.</summary>
    public string? Environment { get; init; }

    /// <summary><c>.deploy &lt;branch&gt;</c>: the branch asked for (a rollback when it is the stable branch).</summary>
    public string? Branch { get; init; }

    /// <summary><c>--global</c>: every environment of the repository.</summary>
    public bool Global { get; init; }

    /// <summary><c>.lock --details</c> (or <c>--info</c>): report the lock instead of taking it.</summary>
    public bool Details { get; init; }

    /// <summary><c>.deploy --force</c>: an admin overrides a deploy freeze (where the configuration allows it).</summary>
    public bool Force { get; init; }

    /// <summary><c>--for &lt;duration&gt;</c> of a lock (<c>30m</c>, <c>2h</c>, <c>1d</c>): it ends by itself after this long.</summary>
    public TimeSpan? For { get; init; }

    /// <summary><c>.deploy &lt;sha&gt;</c>: a commit (40 hexadecimal digits) reachable from the pull request's head.</summary>
    public string? Sha { get; init; }

    /// <summary>
    /// <c>.deploy to production | --canary 10</c>: everything after the first <c>|</c>, passed to the provider as it is
    /// (branch-deploy's parameters); null when there is no <c>|</c>.
    /// </summary>
    public string? Params { get; init; }

    /// <summary>The longest <see cref="Params"/> taken.</summary>
    public const int MaxParamsLength = 500;

    /// <summary><c>--reason &lt;text&gt;</c> of a lock.</summary>
    public string? Reason { get; init; }

    /// <summary>The command as written (first line, trimmed), for replies and the ledger.</summary>
    public required string Text { get; init; }

    private static readonly Dictionary<string, CommandVerb> Verbs = new(StringComparer.OrdinalIgnoreCase)
    {
        ["deploy"] = CommandVerb.Deploy,
        ["noop"] = CommandVerb.Noop,
        ["lock"] = CommandVerb.Lock,
        ["unlock"] = CommandVerb.Unlock,
        ["wcid"] = CommandVerb.Wcid,
        ["help"] = CommandVerb.Help,
        ["preview"] = CommandVerb.Preview,
    };

    /// <summary>
    /// Someone's text as a Markdown code span, for a reply to repeat: in a code span an <c>@mention</c> notifies nobody and a
    /// link is not a link. Backticks (which would end the span) become quotes; at most <paramref name="max"/> characters.
    /// </summary>
    public static string Quote(string text, int max = 100)
    {
        ArgumentNullException.ThrowIfNull(text);
        var plain = text.Replace('`', '\'').ReplaceLineEndings(" ").Trim();
        return $"`{(plain.Length <= max ? plain : plain[..(max - 1)] + "…")}`";
    }

    /// <summary>The first line of a comment, trimmed.</summary>
    public static string FirstLine(string body)
    {
        ArgumentNullException.ThrowIfNull(body);
        var end = body.AsSpan().IndexOfAny('\r', '\n');
        return (end < 0 ? body : body[..end]).Trim();
    }

    /// <summary>
    /// True when <paramref name="firstLine"/> is <paramref name="prefix"/> immediately followed by a command word and then
    /// the end or a space: <c>.deploy to staging</c> is, <c>...and another thing</c> and <c>.deployment</c> are not.
    /// </summary>
    public static bool IsCommand(string firstLine, string prefix) => VerbOf(firstLine, prefix) is not null;

    private static CommandVerb? VerbOf(string firstLine, string prefix)
    {
        if (string.IsNullOrEmpty(prefix) || !firstLine.StartsWith(prefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = firstLine.AsSpan(prefix.Length);
        var end = rest.IndexOfAny(' ', '\t');
        var word = (end < 0 ? rest : rest[..end]).ToString();
        return Verbs.TryGetValue(word, out var verb) ? verb : null;
    }

    /// <summary>The command, or a reason it cannot be read (safe to reply with).</summary>
    public static ChatCommand? Parse(string firstLine, string prefix, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(firstLine);
        problem = null;
        if (VerbOf(firstLine, prefix) is not { } verb)
        {
            problem = $"{Quote(firstLine)} is not a command";
            return null;
        }

        var text = firstLine[prefix.Length..];
        var command = new ChatCommand { Verb = verb, Text = firstLine };
        if (verb is CommandVerb.Deploy or CommandVerb.Noop && text.IndexOf('|', StringComparison.Ordinal) is var bar and >= 0)
        {
            var parameters = text[(bar + 1)..].Trim();
            if (parameters.Length == 0 || parameters.Length > MaxParamsLength)
            {
                return Fail($"parameters after '|' must be 1-{MaxParamsLength} characters, e.g. '| --canary 10'", out problem);
            }

            (text, command) = (text[..bar], command with { Params = parameters });
        }

        var words = text.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        return verb switch
        {
            CommandVerb.Deploy or CommandVerb.Noop => ParseDeploy(command, words[1..], out problem),
            CommandVerb.Lock or CommandVerb.Unlock => ParseLock(command, words[1..], out problem),
            CommandVerb.Preview when words.Length == 2 && IsSha(words[1]) => command with { Sha = words[1].ToLowerInvariant() },
            CommandVerb.Preview when words.Length > 1 => Fail($"{prefix}preview takes nothing, or the head commit's full id (40 characters) you reviewed", out problem),
            _ when words.Length > 1 => Fail($"{prefix}{words[0].ToLowerInvariant()} takes no arguments", out problem),
            _ => command,
        };
    }

    private static ChatCommand? ParseDeploy(ChatCommand command, string[] words, out string? problem)
    {
        problem = null;
        if (command.Verb == CommandVerb.Deploy && words.Any(w => IsWord(w, "--force")))
        {
            command = command with { Force = true };
            words = [.. words.Where(w => !IsWord(w, "--force"))];
        }

        var i = 0;
        if (i < words.Length && !IsWord(words[i], "to"))
        {
            var word = words[i++];
            command = IsSha(word) ? command with { Sha = word.ToLowerInvariant() } : command with { Branch = word };
        }

        if (i < words.Length && IsWord(words[i], "to"))
        {
            if (i + 1 >= words.Length)
            {
                return Fail("'to' needs an environment, e.g. 'to staging'", out problem);
            }

            command = command with { Environment = words[i + 1] };
            i += 2;
        }

        return i < words.Length
            ? Fail($"unexpected {Quote(string.Join(' ', words[i..]))}: write '{VerbName(command.Verb)} [<stable branch>|<sha>] [to <environment>] [| <parameters>]'", out problem)
            : command;
    }

    private static ChatCommand? ParseLock(ChatCommand command, string[] words, out string? problem)
    {
        problem = null;
        for (var i = 0; i < words.Length; i++)
        {
            var word = words[i];
            if (IsWord(word, "--global"))
            {
                command = command with { Global = true };
            }
            else if (command.Verb == CommandVerb.Lock && (IsWord(word, "--details") || IsWord(word, "--info")))
            {
                command = command with { Details = true };
            }
            else if (command.Verb == CommandVerb.Lock && IsWord(word, "--for"))
            {
                if (i + 1 >= words.Length || Config.FreezeWindow.ParseDuration(words[i + 1]) is not { } length || length > TimeSpan.FromDays(30))
                {
                    return Fail("--for needs a duration up to 30 days, e.g. '--for 2h' (m, h, d)", out problem);
                }

                command = command with { For = length };
                i++;
            }
            else if (command.Verb == CommandVerb.Lock && IsWord(word, "--reason"))
            {
                var reason = string.Join(' ', words[(i + 1)..]);
                if (reason.Length == 0)
                {
                    return Fail("--reason needs a text, e.g. '--reason release freeze'", out problem);
                }

                return Finish(command with { Reason = reason }, out problem);
            }
            else if (word.StartsWith("--", StringComparison.Ordinal))
            {
                return Fail($"unknown option {Quote(word)}", out problem);
            }
            else if (command.Environment is null)
            {
                command = command with { Environment = word };
            }
            else
            {
                return Fail($"unexpected {Quote(word)}: one environment at most", out problem);
            }
        }

        return Finish(command, out problem);
    }

    private static ChatCommand? Finish(ChatCommand command, out string? problem)
    {
        problem = null;
        return command.Global && command.Environment is not null
            ? Fail("--global applies to every environment: name no environment with it", out problem)
            : command;
    }

    private static ChatCommand? Fail(string reason, out string? problem)
    {
        problem = reason;
        return null;
    }

    /// <summary>A whole commit id: 40 hexadecimal digits (an abbreviation could name a different commit tomorrow).</summary>
    public static bool IsSha(string word) => word.Length == 40 && word.All(char.IsAsciiHexDigit);

    private static bool IsWord(string word, string expected) => string.Equals(word, expected, StringComparison.OrdinalIgnoreCase);

    private static string VerbName(CommandVerb verb) => verb.ToString().ToLowerInvariant();
}
