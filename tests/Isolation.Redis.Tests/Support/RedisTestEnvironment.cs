using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;

namespace Isolation.Redis.Tests.Support;

/// <summary>
/// The Redis server the tests share, from <c>ISOLATION_TEST_REDIS</c> (exported by <c>.ci/setup.d/30-redis.sh</c>). Unset
/// locally: the test is skipped with the reason. Unset under <c>CI=true</c>: the test fails.
/// </summary>
internal static class RedisTestEnvironment
{
    public const string Variable = "ISOLATION_TEST_REDIS";

    public static string ConnectionString()
    {
        var connectionString = Environment.GetEnvironmentVariable(Variable);
        if (string.IsNullOrWhiteSpace(connectionString))
        {
            FailUnderCiOrSkip($"{Variable} is not set");
        }

        return connectionString!;
    }

    /// <summary>The redis-server executable, for tests that start (and kill) a server of their own.</summary>
    public static string RedisServerExecutable()
    {
        foreach (var directory in (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(Path.PathSeparator))
        {
            var candidate = Path.Combine(directory, "redis-server");
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        FailUnderCiOrSkip("redis-server is not on PATH");
        return null!;
    }

    /// <summary>A fresh environment prefix per test, so tests sharing one Redis never see each other's keys or channels.</summary>
    public static string UniquePrefix(string name) => "test-" + name + "-" + Guid.NewGuid().ToString("N")[..8];

    public static string NewKey() => Convert.ToBase64String(RandomNumberGenerator.GetBytes(32));

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static void FailUnderCiOrSkip(string what)
    {
        if (string.Equals(Environment.GetEnvironmentVariable("CI"), "true", StringComparison.OrdinalIgnoreCase))
        {
            Assert.Fail($"{what} although CI=true: .ci/setup.d/30-redis.sh must install redis-server, start it and export {Variable} before the tests run.");
        }

        Assert.Skip($"Redis test skipped: {what}. Run 'source .ci/setup.d/30-redis.sh' as root (installs Debian's redis-server, starts one on a free loopback port and exports {Variable}), or set {Variable} to a StackExchange.Redis configuration string.");
    }
}

/// <summary>A redis-server process of the test's own, on a free loopback port: the fault tests kill and restart it, never the shared one.</summary>
internal sealed class OwnRedisServer : IAsyncDisposable
{
    private const string Password = "own_test";
    private readonly string _executable;
    private Process? _process;

    private OwnRedisServer(string executable, int port)
    {
        _executable = executable;
        Port = port;
    }

    public int Port { get; }

    public string ConnectionString => $"127.0.0.1:{Port},password={Password},connectTimeout=1000,syncTimeout=1000,asyncTimeout=1000";

    public static async Task<OwnRedisServer> StartAsync(CancellationToken cancellationToken)
    {
        var server = new OwnRedisServer(RedisTestEnvironment.RedisServerExecutable(), RedisTestEnvironment.FreePort());
        await server.StartAgainAsync(cancellationToken);
        return server;
    }

    public async Task StartAgainAsync(CancellationToken cancellationToken)
    {
        var info = new ProcessStartInfo(_executable)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var argument in new[] { "--bind", "127.0.0.1", "--port", Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--requirepass", Password, "--save", string.Empty, "--appendonly", "no", "--daemonize", "no" })
        {
            info.ArgumentList.Add(argument);
        }

        _process = Process.Start(info) ?? throw new InvalidOperationException("redis-server did not start.");
        _process.OutputDataReceived += static (_, _) => { };
        _process.ErrorDataReceived += static (_, _) => { };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();

        // Bounded wait for the port to accept connections.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline && !_process.HasExited)
            {
                await Task.Delay(50, cancellationToken);
            }
        }
    }

    /// <summary>Kills the server process (no shutdown, no save): the way a crashed or unplugged Redis goes away.</summary>
    public async Task KillAsync()
    {
        var process = _process;
        _process = null;
        if (process is null)
        {
            return;
        }

        if (!process.HasExited)
        {
            process.Kill();
        }

        await process.WaitForExitAsync();
        process.Dispose();
    }

    public async ValueTask DisposeAsync() => await KillAsync();
}
